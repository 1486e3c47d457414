
; top-level constants (exported or not): in javascript-top.scm

(import_statement) @import

; type evidence (index/typed.py): member uses, declarations, assignments, parameters,
; instanceof checks, loops
(member_expression) @evidence.attribute
(variable_declarator) @evidence.declare
(assignment_expression) @evidence.assign
(formal_parameters) @evidence.params
(binary_expression operator: "instanceof") @evidence.isinstance
(for_in_statement) @evidence.for
