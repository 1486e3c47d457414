; Patterns matched only at the root's children (index/languages.py `top_query`: run with a
; start depth of 1). Written under the root node in the index query, they kept a match
; open from the root for the whole walk over the tree: a third of Python's query's CPU. The
; wheel's own `(module (expression_statement ...))` is switched off there, re-stated here.
(expression_statement (assignment left: (identifier) @name) @definition.constant)

; module-level assignments one block down: `if TYPE_CHECKING:` aliases, version checks, and
; `try: ... except ImportError: ...` fallbacks bind module names as much as top-level ones
(if_statement
  consequence: (block
    (expression_statement (assignment left: (identifier) @name) @definition.constant)))
(if_statement
  alternative: (elif_clause
    consequence: (block
      (expression_statement (assignment left: (identifier) @name) @definition.constant))))
(if_statement
  alternative: (else_clause
    body: (block
      (expression_statement (assignment left: (identifier) @name) @definition.constant))))
(try_statement
  body: (block
    (expression_statement (assignment left: (identifier) @name) @definition.constant)))
(try_statement
  (except_clause
    (block
      (expression_statement (assignment left: (identifier) @name) @definition.constant))))
