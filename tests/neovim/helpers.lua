-- Shared by the Lua tests under tests/neovim/, run by test_neovim.py as
--   nvim --headless --clean -l test_x.lua
-- with SCOPEWISE_TEST_WORKSPACE (a copy of tests/fixtures/poly) and SCOPEWISE_NVIM_PLUGIN
-- (clients/neovim) in the environment. A failed check prints why to stderr and exits with
-- status 1 (cquit); a test that ends normally exits with 0.

local T = {}

T.workspace = assert(vim.env.SCOPEWISE_TEST_WORKSPACE, 'SCOPEWISE_TEST_WORKSPACE is not set')
T.plugin = assert(vim.env.SCOPEWISE_NVIM_PLUGIN, 'SCOPEWISE_NVIM_PLUGIN is not set')
T.timeout = 15000

--- window/showMessage notifications the server sent: { type = n, message = s }
T.messages = {}
--- vim.notify calls (the plugin's own messages): { msg = s, level = n }
T.notes = {}
--- window/showMessageRequest questions the server asked (their text), and the answers a user
--- gives, in turn (a title; false: dismissed); when none are queued, "Apply".
T.questions = {}
T.answers = {}

function T.log(...)
  local parts = {}
  for i = 1, select('#', ...) do
    parts[#parts + 1] = tostring(select(i, ...))
  end
  io.stdout:write(table.concat(parts, ' ') .. '\n')
  io.stdout:flush()
end

function T.fail(msg)
  io.stderr:write('FAIL: ' .. tostring(msg) .. '\n')
  if #T.messages > 0 then
    io.stderr:write('server messages:\n')
    for _, m in ipairs(T.messages) do
      io.stderr:write(('  [%d] %s\n'):format(m.type, m.message))
    end
  end
  io.stderr:flush()
  vim.cmd('cquit 1')
end

function T.ok(cond, msg)
  if not cond then
    T.fail(msg)
  end
  return cond
end

function T.eq(got, want, what)
  if not vim.deep_equal(got, want) then
    T.fail(('%s:\n--- expected\n%s\n--- got\n%s'):format(what, vim.inspect(want), vim.inspect(got)))
  end
end

--- Wait (running the event loop) until cond() is true, else fail naming what was awaited.
function T.wait(what, cond, ms)
  if not vim.wait(ms or T.timeout, cond, 20) then
    T.fail('timed out after ' .. (ms or T.timeout) .. ' ms waiting for ' .. what)
  end
end

--- The plugin on the runtimepath as a user would have it (plugin/ sourced as at startup), and
--- the server's messages recorded.
function T.setup()
  vim.opt.runtimepath:prepend(T.plugin)
  vim.cmd.runtime('plugin/scopewise.lua')
  local notify = vim.notify
  vim.notify = function(msg, level, opts)
    table.insert(T.notes, { msg = msg, level = level })
    T.log('notify:', msg)
    return notify(msg, level, opts)
  end
  T.answer_questions()
  local show = vim.lsp.handlers['window/showMessage']
  vim.lsp.handlers['window/showMessage'] = function(err, params, ctx, config)
    table.insert(T.messages, { type = params.type, message = params.message })
    T.log('server message:', params.message)
    return show(err, params, ctx, config)
  end
end

--- Neovim asks window/showMessageRequest through vim.ui.select (kind "lsp_message"): answer
--- it from T.answers (else "Apply"), as a user picking from the list would.
function T.answer_questions()
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind ~= 'lsp_message' then
      return select(items, opts, on_choice)
    end
    table.insert(T.questions, {
      prompt = opts.prompt,
      titles = vim.tbl_map(function(i)
        return i.title
      end, items),
    })
    local want = 'Apply'
    if #T.answers > 0 then
      want = table.remove(T.answers, 1)
    end
    T.log('question:', opts.prompt, '->', tostring(want))
    for _, item in ipairs(items) do
      if want and item.title == want then
        return on_choice(item)
      end
    end
    return on_choice(nil)
  end
end

function T.path(rel)
  return T.workspace .. '/' .. rel
end

--- Edit a workspace file; its buffer number.
function T.open(rel)
  vim.cmd.edit(vim.fn.fnameescape(T.path(rel)))
  return vim.api.nvim_get_current_buf()
end

--- The initialized scopewise client of a buffer, once its first index is built.
function T.client(bufnr)
  local client
  T.wait('the scopewise client to attach to ' .. vim.api.nvim_buf_get_name(bufnr), function()
    client = vim.lsp.get_clients({ bufnr = bufnr, name = 'scopewise' })[1]
    return client ~= nil and client.initialized == true
  end)
  T.wait('the first index to finish', function()
    local p = require('scopewise').progress[client.id]
    return p ~= nil and p.index ~= nil and p.index.state == 'done'
  end)
  return client
end

--- The buffer's text, as the file would be written.
function T.text(bufnr)
  return table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), '\n') .. '\n'
end

function T.read(rel)
  local f = assert(io.open(T.path(rel), 'r'))
  local s = f:read('*a')
  f:close()
  return s
end

--- Replace the first occurrence of `old` (plain text) in a file's text.
function T.replace(text, old, new)
  local i, j = text:find(old, 1, true)
  assert(i, 'not in the text: ' .. old)
  return text:sub(1, i - 1) .. new .. text:sub(j + 1)
end

--- Code actions for 1-based lines l1..l2 straight from the server (textDocument/codeAction).
function T.actions(bufnr, l1, l2, context)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = { start = { line = l1 - 1, character = 0 }, ['end'] = { line = l2, character = 0 } },
    context = vim.tbl_extend('force', { diagnostics = {} }, context or {}),
  }
  local results, err = vim.lsp.buf_request_sync(bufnr, 'textDocument/codeAction', params, 5000)
  T.ok(results, 'textDocument/codeAction: ' .. tostring(err))
  local out = {}
  for _, res in pairs(results or {}) do
    T.ok(res.err == nil, 'textDocument/codeAction failed: ' .. vim.inspect(res.err))
    vim.list_extend(out, res.result or {})
  end
  return out
end

function T.titles(actions)
  return vim.tbl_map(function(a)
    return a.title
  end, actions)
end

--- Select lines l1..l2 and run one code action through the stock vim.lsp.buf.code_action.
function T.code_action(l1, l2, pred, context)
  vim.lsp.buf.code_action({
    apply = true,
    context = context,
    range = { start = { l1, 0 }, ['end'] = { l2, 0 } },
    filter = pred,
  })
end

--- A predicate for code_action's filter: the title starts with `prefix` and is the one on the
--- sliding scale (not a sibling forced to a tier).
function T.titled(prefix)
  return function(a)
    local forced = type(a.data) == 'table' and a.data.tier ~= nil and a.data.tier ~= vim.NIL
    return vim.startswith(a.title, prefix) and not forced
  end
end

--- The refactor intents are listed when the client asks for refactors (`only`).
T.refactors = { only = { 'refactor' } }

--- Wait until a buffer's text equals `want`; fail with both texts.
function T.wait_text(bufnr, want, what)
  local ok = vim.wait(T.timeout, function()
    return T.text(bufnr) == want
  end, 20)
  if not ok then
    T.fail(('%s: the buffer never became the expected text\n--- expected\n%s--- got\n%s'):format(
      what,
      want,
      T.text(bufnr)
    ))
  end
end

--- Wait for a server message (or the helper's own notification: an applied proposal is
--- reported once, by the review) containing `needle`; { message = s }.
function T.wait_message(needle)
  local found
  T.wait('a server message containing ' .. vim.inspect(needle), function()
    for _, m in ipairs(T.messages) do
      if m.message:find(needle, 1, true) then
        found = m
        return true
      end
    end
    for _, n in ipairs(T.notes) do
      if n.msg:find(needle, 1, true) then
        found = { type = n.level, message = n.msg }
        return true
      end
    end
    return false
  end)
  return found
end

--- Record every workspace/applyEdit the server sends (then applied by Neovim's own handler);
--- the list of their params.
function T.record_edits()
  local edits = {}
  local apply = vim.lsp.handlers['workspace/applyEdit']
  vim.lsp.handlers['workspace/applyEdit'] = function(err, params, ctx, config)
    table.insert(edits, params)
    return apply(err, params, ctx, config)
  end
  return edits
end

--- Wait for the review of a proposal (the helper's review buffer) and accept every hunk
--- (its `A` key); the review.
function T.accept()
  local review
  T.wait('a proposal to review', function()
    review = require('scopewise.review').current()
    return review ~= nil
  end)
  vim.api.nvim_feedkeys('A', 'x', false)
  return review
end

--- Run the test body; any Lua error fails the test with its traceback. Quits on success.
function T.run(body)
  local ok, err = xpcall(body, debug.traceback)
  if not ok then
    T.fail(err)
  end
  T.log('PASS')
  vim.cmd('qall!')
end

return T
