; scopewise additions to tree-sitter-python's tags.scm: class fields and imports.

(class_definition
  body: (block
    (expression_statement
      (assignment left: (identifier) @name) @definition.field)))

(import_statement) @import
(import_from_statement) @import
(future_import_statement) @import

; `self.name = ...` inside a method: an instance attribute of the class
(expression_statement
  (assignment
    left: (attribute
      object: (identifier) @_self
      attribute: (identifier) @name)
    (#eq? @_self "self"))) @definition.attribute

; module-level assignments one block down: in python-top.scm

; type evidence (index/evidence.py): bindings, annotations, `with ... as`, `except ... as`,
; isinstance checks and return annotations
(assignment) @evidence.assign
(class_definition
  body: (block (expression_statement (assignment) @evidence.class_assign)))
(attribute) @evidence.attribute
(as_pattern) @evidence.as
(parameters) @evidence.params
(for_statement left: (_) @evidence.for)
(function_definition return_type: (type)) @evidence.returns
((call function: (identifier) @_isinstance) @evidence.isinstance
  (#eq? @_isinstance "isinstance"))
