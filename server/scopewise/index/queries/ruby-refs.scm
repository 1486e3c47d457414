(constant) @reference.name
(identifier) @reference.name
(call receiver: (_) method: (identifier) @reference.member)
