
(program
  (lexical_declaration
    (variable_declarator name: (identifier) @name) @definition.constant))
(program
  (export_statement
    declaration: (lexical_declaration
      (variable_declarator name: (identifier) @name) @definition.constant)))

(import_statement) @import

; type evidence (index/typed.py): member uses, declarations, assignments, parameters,
; instanceof checks, loops
(member_expression) @evidence.attribute
(variable_declarator) @evidence.declare
(assignment_expression) @evidence.assign
(formal_parameters) @evidence.params
(binary_expression operator: "instanceof") @evidence.isinstance
(for_in_statement) @evidence.for
