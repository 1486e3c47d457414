(identifier) @reference.name
(property_identifier) @reference.name
(shorthand_property_identifier) @reference.name
(member_expression property: (property_identifier) @reference.member)
