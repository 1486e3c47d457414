
; top-level var and const declarations: in go-top.scm
(field_declaration name: (field_identifier) @name) @definition.field

(import_spec) @import
; an interface and its methods (their implementations are found by method-name sets)
(type_spec name: (type_identifier) @name type: (interface_type)) @definition.interface
(method_elem name: (field_identifier) @name) @definition.method

; type evidence (index/typed.py): member uses, declared types, receivers, return types
(selector_expression) @evidence.attribute
(short_var_declaration) @evidence.declare
(var_spec) @evidence.declare
(parameter_list) @evidence.params
(field_declaration_list (field_declaration) @evidence.field)
(function_declaration result: (_)) @evidence.returns
(method_declaration) @evidence.returns
