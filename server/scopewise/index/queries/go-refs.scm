(identifier) @reference.name
(field_identifier) @reference.name
(package_identifier) @reference.name
(selector_expression field: (field_identifier) @reference.member)
(type_identifier) @reference.type
