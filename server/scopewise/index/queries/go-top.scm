; Patterns matched only at the root's children (index/languages.py `top_query`: run with a
; start depth of 1). Written under the root node in the index query, they kept a match
; open from the root for the whole walk over the tree.
(var_declaration (var_spec name: (identifier) @name) @definition.variable)
(const_declaration (const_spec name: (identifier) @name) @definition.constant)
