--- scopewise for Neovim: optional helpers on top of the language server's standard LSP.
---
--- Nothing here is needed for the code actions themselves (`vim.lsp.enable('scopewise')` and
--- `vim.lsp.buf.code_action()` are enough). This adds:
---   * `setup()`: enables the server (Neovim 0.11+) or starts it with `vim.lsp.start` (0.10);
---   * `:Scopewise explain|refactor|fix|usage|reindex|tests|cancel` and the same as Lua functions;
---   * `:Scopewise action {name}`: one of the project's own actions (`[[actions]]`);
---   * explanations opened in a split, vertical split, tab or float (`window/showDocument`),
---     filling as they are written (`scopewise/explanation`);
---   * run and index progress echoed from Neovim's own LSP progress (`$/progress`);
---   * proposed edits reviewed hunk by hunk before they land (lua/scopewise/review.lua),
---     `:Scopewise revert` to take an applied one back;
---   * opt-in keymaps for explain / refactor / fix (`keymaps = true`).
--- See `:help scopewise`.

local M = {}

local api = vim.api
local NAME = 'scopewise'
local RUN = 'scopewise.run'
local PROJECT_ACTIONS = 'scopewise.projectActions' -- the project's [[actions]]
local KIND = {
  explain = 'source.scopewise.explain',
  refactor = 'refactor.rewrite',
  fix = 'quickfix',
}
--- The refactor intents the server lists, one code action each.
M.intents = { 'simplify', 'extract function', 'improve names', 'add types', 'make idiomatic' }

--- @class scopewise.Config
--- @field explain 'split'|'vsplit'|'tab'|'float'|'current' where explanations open
--- @field progress boolean|fun(line: string, value: table, client_id: integer) show progress
--- @field enable boolean call vim.lsp.enable('scopewise') in setup() (Neovim 0.11+)
--- @field lsp table fields for vim.lsp.config('scopewise', ...) (or vim.lsp.start on 0.10)
--- @field review 'tab'|'split'|'vsplit'|'current' where a proposed edit's review opens
--- @field review_keys table<string, string|false> keys of the review buffer (see review.lua)
--- @field keymaps boolean|table<string, string|false> global keys for explain/refactor/fix
local defaults = {
  explain = 'split',
  progress = true,
  enable = true,
  lsp = {},
  review = 'tab',
  review_keys = {},
  keymaps = false,
}

--- The keys `keymaps = true` sets (normal and visual mode); a table overrides any of them.
M.default_keymaps = {
  explain = '<leader>se',
  refactor = '<leader>sr',
  fix = '<leader>sf',
}

--- @type scopewise.Config
M.config = vim.deepcopy(defaults)

local function notify(msg, level)
  vim.notify('scopewise: ' .. msg, level or vim.log.levels.INFO)
end

local has_011 = vim.fn.has('nvim-0.11') == 1

--- client:request on 0.11+, client.request on 0.10
local function request(client, method, params, handler, bufnr)
  if has_011 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function send_notification(client, method, params)
  if has_011 then
    return client:notify(method, params)
  end
  return client.notify(method, params)
end

local function is_null(v)
  return v == nil or v == vim.NIL
end

-- --------------------------------------------------------------------------- starting

local islist = vim.islist or vim.tbl_islist

--- Deep-merge tables; a list on the right replaces the one on the left (filetypes, cmd), as
--- vim.lsp.config does on Neovim 0.11 (vim.tbl_deep_extend merges lists by index on 0.10).
local function merge(base, over)
  if type(over) ~= 'table' then
    return over == nil and vim.deepcopy(base) or over
  end
  if next(over) == nil then
    return base == nil and {} or vim.deepcopy(base)
  end
  if type(base) ~= 'table' or islist(over) or islist(base) then
    return vim.deepcopy(over)
  end
  local out = vim.deepcopy(base)
  for k, v in pairs(over) do
    out[k] = merge(out[k], v)
  end
  return out
end

--- The server config from this plugin's lsp/scopewise.lua, with `overrides` on top.
--- @param overrides? table
--- @return table
function M.lsp_config(overrides)
  local file = api.nvim_get_runtime_file('lsp/scopewise.lua', false)[1]
  assert(file, 'lsp/scopewise.lua is not on the runtimepath')
  return merge(dofile(file), overrides or {})
end

--- Start (or reuse) the server for a buffer with vim.lsp.start: what setup() does on Neovim
--- 0.10, usable on any version. Returns the client id, or nil for a buffer that is not a file
--- of a supported language.
--- @param bufnr? integer
--- @param overrides? table fields on top of lsp/scopewise.lua
--- @return integer?
function M.start(bufnr, overrides)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local config = M.lsp_config(merge(M.config.lsp or {}, overrides or {}))
  if not vim.tbl_contains(config.filetypes or {}, vim.bo[bufnr].filetype) then
    return nil
  end
  local name = api.nvim_buf_get_name(bufnr)
  if name == '' or vim.bo[bufnr].buftype ~= '' or name:match('^%a[%w+.-]+://') then
    return nil
  end
  local root = config.root_dir
  if type(root) == 'function' or root == nil then
    root = vim.fs.root(bufnr, config.root_markers) or vim.fs.dirname(vim.fs.normalize(name))
  end
  config.name = NAME
  config.root_dir = root
  config.root_markers = nil
  config.filetypes = nil
  return vim.lsp.start(config, { bufnr = bufnr })
end

--- Configure the helpers and start the server for the supported filetypes.
--- @param opts? scopewise.Config|table
function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  M.set_keymaps(M.config.keymaps)
  local lsp = M.config.lsp or {}
  if has_011 then
    if next(lsp) ~= nil then
      vim.lsp.config(NAME, lsp)
    end
    if M.config.enable then
      vim.lsp.enable(NAME)
    end
    return
  end
  if not M.config.enable then
    return
  end
  local filetypes = M.lsp_config(lsp).filetypes
  local group = api.nvim_create_augroup('scopewise.start', { clear = true })
  api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = filetypes,
    callback = function(ev)
      M.start(ev.buf)
    end,
  })
  for _, buf in ipairs(api.nvim_list_bufs()) do
    if api.nvim_buf_is_loaded(buf) then
      M.start(buf)
    end
  end
end

--- Global keys for :Scopewise explain|refactor|fix in normal and visual mode (a visual
--- selection is the range): `true` for M.default_keymaps, a table to change or drop (`false`)
--- any of them, `false` for none.
--- @param spec boolean|table<string, string|false>
function M.set_keymaps(spec)
  if not spec then
    return
  end
  local maps = vim.tbl_extend('force', M.default_keymaps, type(spec) == 'table' and spec or {})
  for what, lhs in pairs(maps) do
    if lhs and M.default_keymaps[what] then
      vim.keymap.set('n', lhs, '<Cmd>Scopewise ' .. what .. '<CR>', { desc = 'scopewise: ' .. what })
      vim.keymap.set('x', lhs, ':Scopewise ' .. what .. '<CR>', { desc = 'scopewise: ' .. what })
    end
  end
end

-- --------------------------------------------------------------------------- running actions

--- The scopewise client attached to a buffer (nil with a message when there is none).
--- @param bufnr integer
--- @param quiet? boolean
function M.client(bufnr, quiet)
  local client = vim.lsp.get_clients({ bufnr = bufnr, name = NAME })[1]
  if not quiet then
    if not client then
      notify('not attached to this buffer (see :checkhealth scopewise)', vim.log.levels.WARN)
    elseif not client.initialized then
      notify('the server is still starting; try again in a moment', vim.log.levels.WARN)
      return nil
    end
  end
  return client
end

--- An LSP range for 1-based inclusive lines, or the cursor (empty: the server widens it to the
--- definition around the cursor).
local function lsp_range(client, bufnr, line1, line2)
  if not line1 then
    local pos = vim.lsp.util.make_position_params(0, client.offset_encoding).position
    return { start = pos, ['end'] = pos }
  end
  local count = api.nvim_buf_line_count(bufnr)
  line2 = math.min(line2 or line1, count)
  local finish
  if line2 < count then
    finish = { line = line2, character = 0 }
  else
    local last = api.nvim_buf_get_lines(bufnr, count - 1, count, false)[1] or ''
    local chars = vim.lsp.util.character_offset(bufnr, count - 1, #last, client.offset_encoding)
    finish = { line = count - 1, character = chars }
  end
  return { start = { line = line1 - 1, character = 0 }, ['end'] = finish }
end

--- Every diagnostic (from any source: LSP servers, linters, ...) on 0-based rows first..last,
--- as LSP diagnostics: the problems a Fix is asked to solve.
local function lsp_diagnostics(client, bufnr, first, last)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.lnum >= first and d.lnum <= last then
      local lsp = d.user_data and d.user_data.lsp
      if type(lsp) ~= 'table' or type(lsp.range) ~= 'table' then
        local function position(row, col)
          local chars = vim.lsp.util.character_offset(bufnr, row, col, client.offset_encoding)
          return { line = row, character = chars }
        end
        lsp = {
          range = {
            start = position(d.lnum, d.col or 0),
            ['end'] = position(d.end_lnum or d.lnum, d.end_col or d.col or 0),
          },
          message = d.message,
          severity = d.severity,
          source = d.source,
          code = d.code,
        }
      end
      table.insert(out, lsp)
    end
  end
  return out
end

--- The action the server planned on the sliding scale (not a sibling forced to a tier, nor one
--- overriding the daily cap).
local function is_auto(action)
  local data = type(action.data) == 'table' and action.data or {}
  return is_null(data.tier) and data.overrideCap ~= true
end

--- Run a code action: resolve its command when the server left it for later, then execute it.
--- @param client vim.lsp.Client
--- @param bufnr integer
--- @param action table lsp.CodeAction
--- @param patch? fun(data: table) changes to the command's argument (a free instruction)
--- @param on_done? fun(result: table?, err: table?)
function M.execute(client, bufnr, action, patch, on_done)
  local function run(resolved)
    local cmd = resolved.command
    if type(cmd) ~= 'table' or cmd.command ~= RUN then
      notify('the server gave no command for ' .. action.title, vim.log.levels.ERROR)
      return on_done and on_done(nil, { message = 'no command' })
    end
    local arguments = vim.deepcopy(cmd.arguments or {})
    if patch and type(arguments[1]) == 'table' then
      patch(arguments[1])
    end
    request(client, 'workspace/executeCommand', {
      command = cmd.command,
      arguments = arguments,
    }, function(err, result)
      -- the server tells the user itself (window/showMessage) what happened and why
      if err and err.code ~= vim.lsp.protocol.ErrorCodes.RequestCancelled then
        notify(action.title .. ': ' .. err.message, vim.log.levels.ERROR)
      end
      -- a refactor/fix answers with its proposal (also sent as scopewise/proposal: one review)
      if not err and type(result) == 'table' and type(result.id) == 'string' and result.files then
        require('scopewise.review').show(result, client.id)
      end
      if on_done then
        on_done(result, err)
      end
    end, bufnr)
  end
  if type(action.command) == 'table' then
    return run(action)
  end
  request(client, 'codeAction/resolve', action, function(err, resolved)
    if err then
      notify(action.title .. ': ' .. err.message, vim.log.levels.ERROR)
      return on_done and on_done(nil, err)
    end
    run(resolved)
  end, bufnr)
end

--- @class scopewise.RunOpts
--- @field bufnr? integer the buffer (default: current)
--- @field line1? integer first line (1-based); none: the definition around the cursor
--- @field line2? integer last line (1-based, inclusive)
--- @field intent? string refactor: one of M.intents
--- @field instruction? string refactor: a free instruction instead of an intent
--- @field on_done? fun(result: table?, err: table?) called with the server's answer

--- List the actions of one kind for a range, pick the one on the sliding scale (or let the user
--- choose when only forced ones exist) and run it. `action`: a project action, opts.name of
--- code-action kind opts.kind.
--- @param what 'explain'|'refactor'|'fix'|'action'
--- @param opts scopewise.RunOpts|table
local function run_kind(what, opts)
  local bufnr = (opts.bufnr == nil or opts.bufnr == 0) and api.nvim_get_current_buf() or opts.bufnr
  local client = M.client(bufnr)
  if not client then
    return
  end
  local range = lsp_range(client, bufnr, opts.line1, opts.line2)
  local diagnostics = {}
  if what == 'fix' then
    -- the selected lines' diagnostics, or the cursor line's (the range itself stays the
    -- cursor: the server widens it to the definition around it)
    local first, last
    if opts.line1 then
      first, last = opts.line1 - 1, (opts.line2 or opts.line1) - 1
    else
      first = api.nvim_win_get_cursor(0)[1] - 1
      last = first
    end
    diagnostics = lsp_diagnostics(client, bufnr, first, last)
  end
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = range,
    context = {
      only = { what == 'action' and opts.kind or KIND[what] },
      diagnostics = diagnostics,
      triggerKind = vim.lsp.protocol.CodeActionTriggerKind.Invoked,
    },
  }
  request(client, 'textDocument/codeAction', params, function(err, actions)
    if err then
      notify(err.message, vim.log.levels.ERROR)
      return opts.on_done and opts.on_done(nil, err)
    end
    local candidates = {}
    for _, a in ipairs(actions or {}) do
      local data = type(a.data) == 'table' and a.data or {}
      local wanted = a.kind == (what == 'action' and opts.kind or KIND[what])
      if what == 'action' then
        wanted = wanted and data.projectAction == opts.name
      elseif what == 'refactor' and opts.intent then
        wanted = wanted and data.intent == opts.intent
      elseif what == 'refactor' then
        wanted = wanted and data.intent == 'simplify' -- any intent: the instruction replaces it
      end
      if wanted and a.disabled == nil then
        table.insert(candidates, a)
      end
    end
    if #candidates == 0 then
      local why = what == 'fix' and 'nothing to fix here (no diagnostics or syntax errors)'
        or what == 'action' and ('the project action ' .. opts.name .. ' cannot run here')
        or ('no ' .. what .. ' action here')
      notify(why, vim.log.levels.WARN)
      return opts.on_done and opts.on_done(nil, { message = why })
    end
    local patch
    if what == 'refactor' and opts.instruction then
      patch = function(data)
        data.intent = nil
        data.instruction = opts.instruction
        data.title = 'Refactor: ' .. opts.instruction
      end
    end
    for _, a in ipairs(candidates) do
      if is_auto(a) then
        return M.execute(client, bufnr, a, patch, opts.on_done)
      end
    end
    -- only forced variants (e.g. over the daily cap): the user decides
    vim.ui.select(candidates, {
      prompt = 'scopewise:',
      kind = 'codeaction',
      format_item = function(a)
        return a.title
      end,
    }, function(choice)
      if choice then
        M.execute(client, bufnr, choice, patch, opts.on_done)
      end
    end)
  end, bufnr)
end

--- Explain a range (or the definition around the cursor); the document opens per config.explain.
--- @param opts? scopewise.RunOpts
function M.explain(opts)
  run_kind('explain', opts or {})
end

local OTHER = 'other instruction…'

--- Refactor with an intent (`opts.intent`) or a free instruction (`opts.instruction`); with
--- neither, pick the intent with vim.ui.select (its last item asks for a free instruction
--- with vim.ui.input; an intent's name typed there picks that intent).
--- @param opts? scopewise.RunOpts
function M.refactor(opts)
  opts = opts or {}
  if opts.intent or opts.instruction then
    if opts.intent and not vim.tbl_contains(M.intents, opts.intent) then
      return notify('unknown intent ' .. opts.intent, vim.log.levels.ERROR)
    end
    return run_kind('refactor', opts)
  end
  local items = vim.list_extend(vim.deepcopy(M.intents), { OTHER })
  vim.ui.select(items, { prompt = 'scopewise refactor:', kind = 'scopewise.intent' }, function(choice)
    if choice == nil then
      return
    elseif choice ~= OTHER then
      return run_kind('refactor', vim.tbl_extend('force', opts, { intent = choice }))
    end
    M.refactor_instruction(opts)
  end)
end

--- Ask for a free refactor instruction with vim.ui.input and run it.
--- @param opts? scopewise.RunOpts
function M.refactor_instruction(opts)
  opts = opts or {}
  vim.ui.input({
    prompt = 'scopewise refactor (an instruction, or: ' .. table.concat(M.intents, ', ') .. '): ',
  }, function(text)
    text = text and vim.trim(text) or ''
    if text == '' then
      return
    end
    local o = vim.deepcopy(opts)
    if vim.tbl_contains(M.intents, text) then
      o.intent = text
    else
      o.instruction = text
    end
    run_kind('refactor', o)
  end)
end

--- Fix the diagnostics (from any source) on a range or the cursor line, or its syntax errors.
--- @param opts? scopewise.RunOpts
function M.fix(opts)
  run_kind('fix', opts or {})
end

--- The project's actions (`[[actions]]` in .scopewise.toml), each with `name`, `kind`
--- ('explain'|'edit'), `route`, `files`, `codeActionKind` and whether it `applies` to the
--- buffer's file. Synchronous (for completion): {} when the server does not answer in time.
--- @param bufnr? integer
--- @param timeout_ms? integer
--- @return table[]
function M.project_actions(bufnr, timeout_ms)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local client = M.client(bufnr, true)
  if not client or not client.initialized then
    return {}
  end
  local params = { command = PROJECT_ACTIONS, arguments = { { uri = vim.uri_from_bufnr(bufnr) } } }
  local resp
  if has_011 then
    resp = client:request_sync('workspace/executeCommand', params, timeout_ms or 1000, bufnr)
  else
    resp = client.request_sync('workspace/executeCommand', params, timeout_ms or 1000, bufnr)
  end
  local result = resp and not resp.err and resp.result
  return type(result) == 'table' and type(result.actions) == 'table' and result.actions or {}
end

--- Run a project action by name (as `scopewise actions` lists it) on a range or the
--- definition around the cursor: its entry of the code-action menu, on the sliding scale or
--- at its fixed tier; an edit becomes a proposal to review, a text an explanation.
--- @param name string
--- @param opts? scopewise.RunOpts
function M.action(name, opts)
  opts = vim.deepcopy(opts or {})
  local bufnr = (opts.bufnr == nil or opts.bufnr == 0) and api.nvim_get_current_buf() or opts.bufnr
  if not M.client(bufnr) then
    return
  end
  local found
  local names = {}
  for _, a in ipairs(M.project_actions(bufnr)) do
    table.insert(names, a.name)
    if a.name == name or a.name:lower() == (name or ''):lower() then
      found = a
    end
  end
  if not found then
    local known = #names > 0 and table.concat(names, ', ') or 'none in .scopewise.toml'
    notify(('no project action named %q (%s)'):format(name or '', known), vim.log.levels.ERROR)
    return opts.on_done and opts.on_done(nil, { message = 'unknown project action' })
  end
  if not found.applies then
    local globs = table.concat(found.files or {}, ', ')
    notify(('%s applies to %s only'):format(found.name, globs), vim.log.levels.WARN)
    return opts.on_done and opts.on_done(nil, { message = 'not for this file' })
  end
  opts.name = found.name
  opts.kind = found.codeActionKind
  opts.bufnr = bufnr
  run_kind('action', opts)
end

--- Run one of the server's own commands (scopewise.usage, scopewise.reindex, scopewise.runTests).
local function server_command(command, bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and api.nvim_get_current_buf() or bufnr
  local client = M.client(bufnr, true)
    or vim.lsp.get_clients({ name = NAME })[1]
  if not client then
    return notify('the server is not running (see :checkhealth scopewise)', vim.log.levels.WARN)
  end
  local params = { command = command, arguments = {} }
  request(client, 'workspace/executeCommand', params, function(err, result)
    if err then
      notify(command .. ': ' .. err.message, vim.log.levels.ERROR)
    end
    if on_done then
      on_done(result, err)
    end
  end, bufnr)
  return client
end

--- Spending this session, today and all time (the server shows it as a message).
--- @param on_done? fun(result: table?, err: table?)
function M.usage(on_done)
  server_command('scopewise.usage', nil, on_done)
end

--- Rebuild the workspace index.
--- @param on_done? fun(result: table?, err: table?)
function M.reindex(on_done)
  server_command('scopewise.reindex', nil, function(result, err)
    if result and result.files then
      notify(('indexed %d files (%d symbols) in %.1f s'):format(
        result.files,
        result.symbols or 0,
        result.seconds or 0
      ))
    end
    if on_done then
      on_done(result, err)
    end
  end)
end

--- Run the user's test_command on the tests of the last applied edit (the server shows the
--- output in a buffer and the verdict as a message; it says how to set test_command if unset).
--- @param on_done? fun(result: table?, err: table?)
function M.tests(on_done)
  server_command('scopewise.runTests', nil, on_done)
end

-- --------------------------------------------------------------------------- progress

--- Progress per client: what runs (cancellable work, by token) and the state of the index.
--- @type table<integer, {runs: table<string|integer, table>, index: table?}>
M.progress = {}

local function progress_of(client_id)
  local p = M.progress[client_id]
  if not p then
    p = { runs = {}, index = nil }
    M.progress[client_id] = p
  end
  return p
end

local function is_index_token(token, value)
  if type(token) == 'string' and token:match('^scopewise%-index') then
    return true
  end
  local text = value.message or ''
  return text:match('^Index') ~= nil
end

local function show_progress(line, value, client_id)
  local how = M.config.progress
  if type(how) == 'function' then
    return how(line, value, client_id)
  end
  if how then
    local width = math.max(vim.v.echospace - 1, 10)
    if vim.fn.strdisplaywidth(line) > width then
      line = vim.fn.strcharpart(line, 0, width - 1) .. '…'
    end
    api.nvim_echo({ { line } }, false, {})
  end
end

--- `$/progress` from the server (routed here by lsp/scopewise.lua): remembered for
--- :Scopewise cancel and :checkhealth, shown per config.progress, then handed to Neovim's own
--- handler (LspProgress autocommands, vim.lsp.status()).
function M.on_progress(err, result, ctx, config)
  local value = type(result) == 'table' and result.value or nil
  if not err and type(value) == 'table' and value.kind then
    local p = progress_of(ctx.client_id)
    local token = result.token
    local entry = p.runs[token] or { title = value.title or NAME }
    if value.kind == 'begin' then
      entry = { title = value.title or NAME, cancellable = value.cancellable == true }
      -- titled as the menu entry, "scopewise Explain · quick: a short read · <$0.01": the
      -- tier ("quick", "deep plan + quick write"), for status()
      entry.tier = (value.title or ''):match('^[^·]+· ([^·:]-)[:·]')
    end
    entry.message = value.message or entry.message
    entry.percentage = value.percentage or entry.percentage
    if is_index_token(token, value) then
      p.index = {
        state = value.kind == 'end' and 'done' or 'indexing',
        message = entry.message,
        percentage = entry.percentage,
        at = os.time(),
      }
    end
    if value.kind == 'end' then
      p.runs[token] = nil
    else
      p.runs[token] = entry
    end
    -- the live part first (a narrow command line cuts the end): message, percentage, then
    -- the title (for a run, the reason for its tier)
    local line = 'scopewise: ' .. (entry.message or '')
    if value.kind ~= 'end' and entry.percentage then
      line = ('%s (%d%%)'):format(line, entry.percentage)
    end
    local title = entry.title:gsub('^scopewise%s*', '')
    if title ~= '' then
      line = line .. ' — ' .. title
    end
    show_progress(line, value, ctx.client_id)
  end
  return vim.lsp.handlers['$/progress'](err, result, ctx, config)
end

--- A statusline component: the tier and tokens of a running action ("scopewise deep · 1.2k
--- tok"), "" when none runs. E.g. `vim.o.statusline = "%f %{v:lua.require'scopewise'.status()}"`.
--- @return string
function M.status()
  for _, p in pairs(M.progress) do
    for token, entry in pairs(p.runs) do
      if not is_index_token(token, entry) then
        local tier = entry.tier or ''
        local tokens = (entry.message or ''):match('([%d.,]+k?) tok')
        local parts = { 'scopewise' }
        if tier ~= '' then
          parts[#parts + 1] = ' ' .. tier
        end
        if tokens then
          parts[#parts + 1] = ' · ' .. tokens .. ' tok'
        end
        return table.concat(parts)
      end
    end
  end
  return ''
end

--- Cancel every running action (the server closes the API stream and logs what it cost).
--- @return integer how many were cancelled
function M.cancel()
  local n = 0
  for _, client in ipairs(vim.lsp.get_clients({ name = NAME })) do
    local p = M.progress[client.id]
    for token, entry in pairs(p and p.runs or {}) do
      if entry.cancellable then
        send_notification(client, 'window/workDoneProgress/cancel', { token = token })
        n = n + 1
      end
    end
  end
  if n == 0 then
    notify('nothing is running')
  end
  return n
end

-- --------------------------------------------------------------------------- explanations

--- Open a buffer per config.explain (a window already showing an explanation is reused);
--- returns its window.
local function open_window(buf, how)
  vim.keymap.set('n', 'q', '<Cmd>close<CR>', { buffer = buf, nowait = true, desc = 'close' })
  local win
  if how == 'float' then
    local width = math.min(100, math.floor(vim.o.columns * 0.8))
    local height = math.max(math.floor((vim.o.lines - vim.o.cmdheight) * 0.8), 3)
    win = api.nvim_open_win(buf, true, {
      relative = 'editor',
      width = width,
      height = height,
      row = math.floor((vim.o.lines - height) / 2) - 1,
      col = math.floor((vim.o.columns - width) / 2),
      border = 'rounded',
      title = ' scopewise ',
      title_pos = 'center',
    })
  elseif how == 'tab' then
    vim.cmd.tabnew()
    win = api.nvim_get_current_win()
    local scratch = api.nvim_get_current_buf()
    api.nvim_win_set_buf(win, buf)
    if api.nvim_buf_is_valid(scratch) and scratch ~= buf then
      api.nvim_buf_delete(scratch, { force = true })
    end
  else
    -- reuse a window that already shows an explanation
    for _, w in ipairs(api.nvim_tabpage_list_wins(0)) do
      local b = api.nvim_win_get_buf(w)
      if vim.b[b].scopewise_explanation and api.nvim_win_get_config(w).relative == '' then
        win = w
        break
      end
    end
    if win then
      api.nvim_win_set_buf(win, buf)
      api.nvim_set_current_win(win)
    else
      local split = how == 'vsplit' and 'right' or 'below'
      win = api.nvim_open_win(buf, true, { split = split, win = -1 })
    end
  end
  vim.wo[win].wrap = true
  vim.wo[win].linebreak = true
  api.nvim_win_set_cursor(win, { 1, 0 })
  return win
end

--- The buffer of an explanation file, loaded and marked.
local function explanation_buffer(path)
  local buf = vim.fn.bufadd(path)
  vim.fn.bufload(buf)
  vim.b[buf].scopewise_explanation = true
  vim.bo[buf].buflisted = true
  if vim.bo[buf].filetype == '' then
    vim.bo[buf].filetype = 'markdown'
  end
  vim.keymap.set('n', 'q', '<Cmd>close<CR>', { buffer = buf, nowait = true, desc = 'close' })
  return buf
end

--- Open an explanation file per config.explain; returns its window.
local function open_explanation(path, how)
  return open_window(explanation_buffer(path), how)
end

--- Explanations being written (`scopewise/explanation` notifications), by run:
--- their scratch buffer and window.
--- @type table<string, {buf: integer, win: integer}>
M.streams = {}

local function open_stream(run)
  local buf = api.nvim_create_buf(false, true)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].filetype = 'markdown'
  vim.b[buf].scopewise_explanation = true
  vim.b[buf].scopewise_stream = run
  pcall(api.nvim_buf_set_name, buf, 'scopewise://explanation/' .. run)
  local how = M.config.explain == 'current' and 'split' or M.config.explain
  local win = open_window(buf, how)
  return { buf = buf, win = win }
end

--- Append text at the end of a buffer (the model's text is data: set as text, never run).
local function append(buf, text)
  local last = api.nvim_buf_line_count(buf) - 1
  local col = #(api.nvim_buf_get_lines(buf, last, last + 1, false)[1] or '')
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_text(buf, last, col, last, col, vim.split(text, '\n', { plain = true }))
  vim.bo[buf].modifiable = false
end

--- The finished (or cut) explanation: its document replaces the streamed text in the same
--- window (the cost at the top, the context it was given at the bottom).
local function finish_stream(s, uri)
  local path = type(uri) == 'string' and uri:match('^file:') and vim.uri_to_fname(uri)
  if not path or vim.fn.filereadable(path) == 0 or not api.nvim_win_is_valid(s.win) then
    return
  end
  local top = api.nvim_win_get_cursor(s.win)[1]
  local ok, buf = pcall(explanation_buffer, path)
  if ok and api.nvim_win_get_buf(s.win) == s.buf then
    api.nvim_win_set_buf(s.win, buf)
    pcall(api.nvim_win_set_cursor, s.win, { math.min(top, api.nvim_buf_line_count(buf)), 0 })
  end
end

--- `scopewise/explanation` from the server (routed here by lsp/scopewise.lua): the first text
--- opens the explanation per config.explain; the rest is appended as it arrives; at the end
--- the document replaces it, ending with "(cut)" when the run was cancelled.
function M.on_explanation(err, result, ctx)
  if err or type(result) ~= 'table' or type(result.run) ~= 'string' then
    return
  end
  if result.done then -- kept for :Scopewise revise (revise.lua)
    require('scopewise.revise').explained(result, ctx and ctx.client_id)
  end
  local s = M.streams[result.run]
  if s and not api.nvim_buf_is_valid(s.buf) then
    return -- the user closed it: the rest is in the document
  end
  if not s then
    local ok, opened = pcall(open_stream, result.run)
    if not ok then
      return
    end
    s = opened
    M.streams[result.run] = s
  end
  if type(result.delta) == 'string' and result.delta ~= '' then
    local follow = api.nvim_win_is_valid(s.win)
      and api.nvim_win_get_cursor(s.win)[1] >= api.nvim_buf_line_count(s.buf)
    append(s.buf, result.delta)
    if follow then
      api.nvim_win_set_cursor(s.win, { api.nvim_buf_line_count(s.buf), 0 })
    end
  end
  if result.done then
    M.streams[result.run] = nil
    finish_stream(s, result.uri)
  end
  if api.nvim_win_is_valid(s.win) then
    local state = result.cut and '(cut)'
      or result.done and 'done'
      or ('writing… %s · %d tokens'):format(tostring(result.tier), tonumber(result.tokens) or 0)
    local bar = ('scopewise explanation %s'):format(state):gsub('%%', '%%%%')
    vim.wo[s.win].winbar = bar
  end
end

--- What this helper shows itself (`capabilities.experimental.scopewise`): streamed
--- explanations.
function M.experimental()
  return { stream = true }
end

--- `window/showDocument` from the server (routed here by lsp/scopewise.lua): an explanation
--- (a Markdown file in scopewise's cache folder) opens per config.explain; anything else
--- goes to Neovim's own handler.
function M.show_document(err, result, ctx, config)
  local default = vim.lsp.handlers['window/showDocument']
  local uri = type(result) == 'table' and result.uri or nil
  if
    err
    or type(uri) ~= 'string'
    or result.external
    or M.config.explain == 'current'
    or not uri:match('^file:')
    or not uri:match('%.md$')
  then
    return default(err, result, ctx, config)
  end
  local previous = api.nvim_get_current_win()
  local ok, win = pcall(open_explanation, vim.uri_to_fname(uri), M.config.explain)
  if not ok then
    notify('could not open the explanation: ' .. tostring(win), vim.log.levels.ERROR)
    return { success = false }
  end
  if result.takeFocus == false and api.nvim_win_is_valid(previous) then
    api.nvim_set_current_win(previous)
  end
  return { success = true }
end

--- `window/showMessage` from the server (routed here by lsp/scopewise.lua): Neovim's own
--- handler, except the server's word on an apply the review reports itself (one message).
function M.show_message(err, result, ctx, config)
  local ok, review = pcall(require, 'scopewise.review')
  if not err and ok and review.holds_message(result, ctx) then
    return vim.NIL
  end
  return vim.lsp.handlers['window/showMessage'](err, result, ctx, config)
end

-- --------------------------------------------------------------------------- :Scopewise

local subcommands =
  { 'explain', 'refactor', 'fix', 'action', 'revise', 'revert', 'usage', 'reindex', 'tests', 'cancel' }

--- Take the last applied proposal back in every buffer it changed (see review.lua).
--- @return integer how many buffers were reverted
function M.revert()
  return require('scopewise.review').revert()
end

--- The :Scopewise command (defined by plugin/scopewise.lua).
--- @param args table the user command's arguments
function M.command(args)
  local sub, rest = (args.args or ''):match('^%s*(%S*)%s*(.-)%s*$')
  local range = {}
  if args.range and args.range > 0 then
    range = { line1 = args.line1, line2 = args.line2 }
  end
  if sub == 'explain' then
    M.explain(range)
  elseif sub == 'refactor' then
    if rest ~= '' then
      if vim.tbl_contains(M.intents, rest) then
        range.intent = rest
      else
        range.instruction = rest
      end
    end
    M.refactor(range)
  elseif sub == 'fix' then
    M.fix(range)
  elseif sub == 'revise' then
    require('scopewise.revise').command(rest)
  elseif sub == 'action' then
    if rest == '' then
      return notify('usage: :Scopewise action {name} (Tab completes the names)', vim.log.levels.ERROR)
    end
    M.action(rest, range)
  elseif sub == 'revert' then
    M.revert()
  elseif sub == 'usage' then
    M.usage()
  elseif sub == 'reindex' then
    M.reindex()
  elseif sub == 'tests' then
    M.tests()
  elseif sub == 'cancel' then
    M.cancel()
  else
    notify(
      ('unknown subcommand %q; use one of: %s'):format(sub, table.concat(subcommands, ', ')),
      vim.log.levels.ERROR
    )
  end
end

--- Completion for :Scopewise.
function M.complete(arglead, cmdline)
  local after = cmdline:match('Scopewise!?%s+(.*)$')
  local words = vim.split(after or '', '%s+', { trimempty = true })
  local function starting(list, prefix)
    return vim.tbl_filter(function(s)
      return vim.startswith(s, prefix)
    end, list)
  end
  if after == nil or #words == 0 or (#words == 1 and arglead ~= '') then
    return starting(subcommands, arglead)
  end
  local choices
  if words[1] == 'refactor' then
    choices = M.intents
  elseif words[1] == 'action' then
    choices = {}
    for _, a in ipairs(M.project_actions(0, 500)) do
      if a.applies then
        table.insert(choices, a.name)
      end
    end
  else
    return {}
  end
  -- a multi-word intent or name: complete from the word being typed
  local typed = after:gsub('^%S+%s*', '')
  local items = {}
  for _, intent in ipairs(starting(choices, typed)) do
    table.insert(items, intent:sub(#typed - #arglead + 1))
  end
  return items
end

return M
