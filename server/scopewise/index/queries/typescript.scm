
(type_alias_declaration name: (type_identifier) @name) @definition.type
(enum_declaration name: (identifier) @name) @definition.enum
(public_field_definition name: (property_identifier) @name) @definition.field
(internal_module name: (identifier) @name) @definition.module

; type evidence (index/typed.py): class fields, declared return types
(public_field_definition) @evidence.field
(function_declaration return_type: (_)) @evidence.returns
(method_definition return_type: (_)) @evidence.returns
(method_signature return_type: (_)) @evidence.returns
(abstract_method_signature return_type: (_)) @evidence.returns
(function_signature return_type: (_)) @evidence.returns
