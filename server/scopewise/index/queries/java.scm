
(enum_declaration name: (identifier) @name) @definition.enum
(record_declaration name: (identifier) @name) @definition.class
(constructor_declaration name: (identifier) @name) @definition.method
(field_declaration declarator: (variable_declarator name: (identifier) @name)) @definition.field

(import_declaration) @import

; type evidence (index/typed.py): member uses, declared types, instanceof, return types
(method_invocation object: (_)) @evidence.attribute
(field_access) @evidence.attribute
(local_variable_declaration) @evidence.declare
(field_declaration) @evidence.field
(formal_parameters) @evidence.params
(assignment_expression) @evidence.assign
(instanceof_expression) @evidence.isinstance
(enhanced_for_statement) @evidence.for
(method_declaration) @evidence.returns
