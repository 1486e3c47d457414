
(assignment left: (constant) @name) @definition.constant

(call method: (identifier) @import.kind
  (#match? @import.kind "^(require|require_relative)$")) @import
