--- scopewise: Claude code actions whose model tier follows the scope of the change.
---
--- The config Neovim 0.11+ finds on the 'runtimepath' for `vim.lsp.enable('scopewise')`.
--- Change any field with `vim.lsp.config('scopewise', { ... })`; see `:help scopewise`.
---
--- Every action comes through the stock `vim.lsp.buf.code_action()`; the handlers below only
--- add two things when the rest of this plugin is on the 'runtimepath' too (they fall back to
--- Neovim's own handlers otherwise): explanations open in a split (or a float), and progress
--- is remembered for `:Scopewise cancel` and `:checkhealth scopewise`.

-- The folders the scopewise CLI treats as a workspace root; the nearest one wins.
local root_markers = {
  '.git',
  '.scopewise.toml',
  'pyproject.toml',
  'package.json',
  'go.mod',
  'Cargo.toml',
  'pom.xml',
  'Gemfile',
  'setup.py',
}

--- The workspace of a buffer: the nearest folder above it with a root marker, else the file's
--- own folder (so a lone script still gets code actions). Buffers that are not files get none.
--- @param bufnr integer
--- @param on_dir fun(root_dir?: string)
local function root_dir(bufnr, on_dir)
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == '' or vim.bo[bufnr].buftype ~= '' or name:match('^%a[%w+.-]+://') then
    return
  end
  local markers = root_markers
  local ok, resolved = pcall(function()
    return vim.lsp.config.scopewise -- the merged config: a user may have set root_markers
  end)
  if ok and type(resolved) == 'table' and type(resolved.root_markers) == 'table' then
    markers = resolved.root_markers
  end
  on_dir(vim.fs.root(bufnr, markers) or vim.fs.dirname(vim.fs.normalize(name)))
end

--- A handler from lua/scopewise when it is available, else Neovim's default.
--- @param method string
--- @param hook string
local function via_plugin(method, hook)
  return function(err, result, ctx, config)
    local ok, scopewise = pcall(require, 'scopewise')
    if ok and type(scopewise[hook]) == 'function' then
      return scopewise[hook](err, result, ctx, config)
    end
    return vim.lsp.handlers[method](err, result, ctx, config)
  end
end

-- The review UI (lua/scopewise/review.lua) on the runtimepath: the client then shows proposed
-- edits itself (`scopewise/proposal`); without it the server asks Apply / Show diff / Discard.
local has_review = #vim.api.nvim_get_runtime_file('lua/scopewise/review.lua', false) > 0

--- `scopewise/proposal`: to the review UI (only advertised when it is there).
local function on_proposal(err, result, ctx, config)
  local ok, review = pcall(require, 'scopewise.review')
  if ok then
    return review.on_proposal(err, result, ctx, config)
  end
end

--- `workspace/applyEdit`: Neovim's own handler, without echoing the edit's label when the
--- review UI says what was applied (two messages would ask to press Enter).
local function apply_edit(err, params, ctx, config)
  if has_review and type(params) == 'table' and params.label ~= nil then
    params = vim.deepcopy(params)
    params.label = nil
  end
  return vim.lsp.handlers['workspace/applyEdit'](err, params, ctx, config)
end

--- What the helper shows itself (`capabilities.experimental.scopewise`): streamed
--- explanations (the helper's `experimental()`), proposals (the review UI); without the helper
--- the server keeps to stock LSP.
local function experimental()
  local ours = {}
  local ok, scopewise = pcall(require, 'scopewise')
  if ok and type(scopewise.experimental) == 'function' then
    ours = scopewise.experimental() or {}
  end
  ours.review = has_review
  return { scopewise = ours }
end

--- @type vim.lsp.Config
return {
  cmd = { 'scopewise', 'serve' },
  -- every language scopewise indexes
  filetypes = {
    'python',
    'javascript',
    'javascriptreact',
    'typescript',
    'typescriptreact',
    'go',
    'rust',
    'java',
    'c',
    'cpp',
    'ruby',
  },
  -- all markers have the same priority: the nearest folder holding any of them is the root
  root_markers = { root_markers },
  root_dir = root_dir,
  capabilities = {
    workspace = {
      -- Neovim applies versioned TextDocumentEdits but does not say so: with this the server
      -- sends versioned edits (a buffer changed meanwhile is never edited) and can create
      -- the new file an "extract function" may need
      workspaceEdit = { documentChanges = true },
    },
    -- scopewise's own (see experimental() above): set `review` to false with
    -- vim.lsp.config('scopewise', ...) to get the server's Apply / Show diff / Discard instead
    experimental = experimental(),
  },
  -- the `scopewise` section the server asks for (workspace/configuration); camelCase or
  -- snake_case keys, e.g. { scopewise = { contextBudget = 8000, force = { refactor = 'deep' } } }
  settings = { scopewise = {} },
  handlers = {
    ['window/showDocument'] = via_plugin('window/showDocument', 'show_document'),
    ['$/progress'] = via_plugin('$/progress', 'on_progress'),
    ['scopewise/explanation'] = function(err, result, ctx, config)
      local ok, scopewise = pcall(require, 'scopewise')
      if ok and type(scopewise.on_explanation) == 'function' then
        return scopewise.on_explanation(err, result, ctx, config)
      end
    end,
    ['scopewise/proposal'] = on_proposal,
    ['window/showMessage'] = via_plugin('window/showMessage', 'show_message'),
    ['workspace/applyEdit'] = apply_edit,
  },
}
