(identifier) @reference.name
(type_identifier) @reference.type
(method_invocation object: (_) name: (identifier) @reference.member)
(field_access field: (identifier) @reference.member)
