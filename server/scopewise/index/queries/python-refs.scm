; Every identifier use is a reference: annotations, base classes, decorators,
; isinstance arguments and attribute reads too, not only calls.
(identifier) @reference.name
(attribute attribute: (identifier) @reference.member)
