; JavaScript grammar only (TypeScript names class fields differently)
(class_body (field_definition property: (property_identifier) @name) @definition.field)
(class_body (field_definition) @evidence.field)
