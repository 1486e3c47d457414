; Every identifier use is a reference: annotations, base classes, decorators,
; isinstance arguments and attribute reads too, not only calls. A member use (the
; attribute of an `attribute`) is taken from @evidence.attribute (index/evidence.py).
(identifier) @reference.name
