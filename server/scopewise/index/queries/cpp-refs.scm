(identifier) @reference.name
(type_identifier) @reference.type
(field_identifier) @reference.name
(namespace_identifier) @reference.name
(field_expression field: (field_identifier) @reference.member)
