; Patterns matched only at the root's children (index/languages.py `top_query`: run with a
; start depth of 1). Written under the root node in the index query, they kept a match
; open from the root for the whole walk over the tree.
(lexical_declaration
  (variable_declarator name: (identifier) @name) @definition.constant)
(export_statement
  declaration: (lexical_declaration
    (variable_declarator name: (identifier) @name) @definition.constant))
