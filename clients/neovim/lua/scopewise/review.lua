--- scopewise for Neovim: review a proposed edit before it lands.
---
--- A refactor or fix does not edit anything at once: the server sends a proposal
--- (`scopewise/proposal`, advertised by the `review` client capability in lsp/scopewise.lua).
--- It opens in ONE review buffer, a unified diff of every file with one `@@` header per hunk
--- (as `git add -p`, fugitive or neogit show it), where each hunk is accepted or rejected with
--- a key; the accepted hunks are applied through `scopewise.applyProposal` as one edit, and
--- `:Scopewise revert` takes that whole edit back in every buffer it touched.
--- See `:help scopewise-review`.

local M = {}

local api = vim.api
local APPLY = 'scopewise.applyProposal'
local DISCARD = 'scopewise.discardProposal'

--- Default keys of the review buffer (overridable: setup({ review_keys = { ... } })).
M.default_keys = {
  accept = 'a',
  reject = 'r',
  next = ']h',
  prev = '[h',
  accept_all = 'A',
  reject_all = 'R',
  apply = 's',
  jump = '<CR>',
  close = 'q',
  revise = 'e', -- "Revise…": an instruction, then a revised proposal replaces this one
}

--- Open reviews by proposal id: { proposal, client_id, bufnr, status = {[hunk id] = 'accepted'
--- |'rejected'|nil}, headers = {[line] = hunk id}, order = {hunk ids in buffer order}, done }
--- @type table<string, table>
M.reviews = {}

--- Proposals shown already (a decided one never reopens).
local seen = {}

--- The last applied edit, for :Scopewise revert: { title, buffers = { {bufnr, before, after,
--- created = {name, dirs}?} } } (`before` is nil for a file the edit created)
--- @type table?
M.last = nil

local function notify(msg, level)
  vim.notify('scopewise: ' .. msg, level or vim.log.levels.INFO)
end

--- One line that fits the command line (a longer one would ask to press Enter).
local function one_line(msg)
  msg = msg:gsub('%s*\n%s*', '; ')
  local width = math.max(vim.v.echospace - #'scopewise: ' - 1, 20)
  if vim.fn.strdisplaywidth(msg) > width then
    msg = vim.fn.strcharpart(msg, 0, width - 1) .. '…'
  end
  return msg
end

local function config()
  local ok, sw = pcall(require, 'scopewise')
  return ok and sw.config or {}
end

local function keys()
  return vim.tbl_extend('force', M.default_keys, config().review_keys or {})
end

local function request(client, method, params, handler, bufnr)
  if vim.fn.has('nvim-0.11') == 1 then
    return client:request(method, params, handler, bufnr)
  end
  return client.request(method, params, handler, bufnr)
end

local function is_list(v)
  return type(v) == 'table' and (vim.islist or vim.tbl_islist)(v)
end

local function fname(file)
  if type(file.uri) == 'string' and file.uri:match('^file:') then
    return vim.uri_to_fname(file.uri)
  end
  return file.path
end

-- --------------------------------------------------------------------------- rendering

--- A buffer line from the model's or the repository's text: data, never more than one line.
local function clean(text)
  return (tostring(text):gsub('[\r\n]', ' '))
end

local function status_word(s)
  return s == 'accepted' and '[accepted]' or s == 'rejected' and '[rejected]' or '[pending]'
end

local function header(hunk, status)
  local old, new = #hunk.old_lines, #hunk.new_lines
  local start = tonumber(hunk.start) or 1
  local ostart = old == 0 and start - 1 or start
  local nstart = new == 0 and start - 1 or start
  return ('@@ -%d,%d +%d,%d @@ hunk %d %s'):format(ostart, old, nstart, new, hunk.id, status_word(status))
end

--- The review buffer's lines; headers[line] = hunk id (1-based lines).
local function render(review)
  local p = review.proposal
  local k = vim.tbl_map(function(lhs)
    return lhs or '(none)'
  end, keys())
  local lines = { '# ' .. clean(p.title or 'scopewise proposal') }
  for _, s in ipairs(vim.split(tostring(p.summary or ''), '\n', { trimempty = true })) do
    table.insert(lines, '# ' .. clean(s))
  end
  for _, s in ipairs(is_list(p.leftovers) and p.leftovers or {}) do
    table.insert(lines, '# left over: ' .. clean(s))
  end
  table.insert(
    lines,
    ('# %s accept  %s reject  %s/%s next/previous  %s accept all  %s reject all  %s apply  %s discard'):format(
      k.accept, k.reject, k.next, k.prev, k.accept_all, k.reject_all, k.apply, k.close
    ) .. (type(p.revise) == 'table' and ('  %s revise'):format(k.revise) or '')
  )
  local headers, order, where = {}, {}, {}
  for _, file in ipairs(p.files or {}) do
    table.insert(lines, '')
    local path = clean(file.path)
    table.insert(lines, 'diff --scopewise a/' .. path .. ' b/' .. path)
    table.insert(lines, '--- a/' .. path)
    table.insert(lines, '+++ b/' .. path)
    for _, hunk in ipairs(file.hunks or {}) do
      table.insert(lines, header(hunk, review.status[hunk.id]))
      headers[#lines] = hunk.id
      table.insert(order, hunk.id)
      where[hunk.id] = { file = file, hunk = hunk }
      for _, l in ipairs(hunk.old_lines) do
        table.insert(lines, '-' .. clean(l))
      end
      for _, l in ipairs(hunk.new_lines) do
        table.insert(lines, '+' .. clean(l))
      end
    end
  end
  review.headers, review.order, review.where = headers, order, where
  return lines
end

local function redraw(review)
  local buf = review.bufnr
  if not api.nvim_buf_is_valid(buf) then
    return
  end
  local view = api.nvim_get_current_buf() == buf and vim.fn.winsaveview() or nil
  vim.bo[buf].modifiable = true
  api.nvim_buf_set_lines(buf, 0, -1, false, render(review))
  vim.bo[buf].modifiable = false
  vim.bo[buf].modified = false
  if view then
    vim.fn.winrestview(view)
  end
end

--- The header line of a hunk.
local function line_of(review, id)
  for line, hid in pairs(review.headers) do
    if hid == id then
      return line
    end
  end
end

--- The hunk under the cursor (its header at or above it), or nil above the first.
local function current(review)
  local row = api.nvim_win_get_cursor(0)[1]
  local best, best_line
  for line, id in pairs(review.headers) do
    if line <= row and (not best_line or line > best_line) then
      best, best_line = id, line
    end
  end
  return best
end

-- --------------------------------------------------------------------------- the quickfix list

--- A quickfix list of the changed files: one entry per hunk, at its line in the current text.
function M.quickfix(proposal)
  local items = {}
  for _, file in ipairs(proposal.files or {}) do
    for _, hunk in ipairs(file.hunks or {}) do
      table.insert(items, {
        filename = fname(file),
        lnum = math.max(tonumber(hunk.start) or 1, 1),
        text = ('hunk %d: -%d +%d lines'):format(hunk.id, #hunk.old_lines, #hunk.new_lines),
      })
    end
  end
  vim.fn.setqflist({}, ' ', { title = 'scopewise: ' .. tostring(proposal.title or ''), items = items })
end

-- --------------------------------------------------------------------------- applying

local function client_of(review)
  return vim.lsp.get_client_by_id(review.client_id)
end

--- The folders above `name` that do not exist yet, innermost first.
local function missing_dirs(name)
  local dirs = {}
  local dir = vim.fs.dirname(name)
  while dir and not vim.uv.fs_stat(dir) do
    table.insert(dirs, dir)
    local up = vim.fs.dirname(dir)
    dir = up ~= dir and up or nil
  end
  return dirs
end

local function lines_of(buf)
  return api.nvim_buf_get_lines(buf, 0, -1, false)
end

local function close(review)
  review.done = true
  M.reviews[review.proposal.id] = nil
  if api.nvim_buf_is_valid(review.bufnr) then
    -- its own tab closes (with the files opened from it), else its windows
    local tab = review.tab
    if tab and api.nvim_tabpage_is_valid(tab) and #api.nvim_list_tabpages() > 1 then
      pcall(vim.cmd.tabclose, api.nvim_tabpage_get_number(tab))
    end
    for _, win in ipairs(vim.fn.win_findbuf(review.bufnr)) do
      if #api.nvim_list_wins() > 1 then
        pcall(api.nvim_win_close, win, true)
      end
    end
    pcall(api.nvim_buf_delete, review.bufnr, { force = true })
  end
end

--- Discard the proposal: nothing is applied, the server forgets it.
function M.discard(review)
  if review.done then
    return
  end
  close(review)
  local client = client_of(review)
  if client then
    -- the server says it was discarded (one message)
    request(client, 'workspace/executeCommand', {
      command = DISCARD,
      arguments = { { id = review.proposal.id } },
    }, function() end)
  else
    notify('proposal discarded; nothing changed')
  end
end

--- The one message of an apply (the server's own is held back meanwhile: two messages in a
--- row would ask to press Enter). What matters most first: a narrow command line cuts the end.
local function report(review, result, total)
  -- "Refactor", "Fix": the title's action ("Fix: 1 change in 1 file (quick, <$0.01)")
  local label = tostring(review.proposal.title or ''):match('^([^:]+):') or 'the edit'
  local applied = is_list(result.applied) and #result.applied or 0
  local files = is_list(result.files) and table.concat(result.files, ', ') or ''
  local refused = is_list(result.refused) and result.refused or {}
  local parts = {}
  for _, r in ipairs(refused) do
    table.insert(parts, ('hunk %s: %s'):format(tostring(r.hunk), tostring(r.reason)))
  end
  local msg
  if applied == 0 then
    msg = ('%s: nothing was applied; refused %s'):format(label, table.concat(parts, '; '))
  elseif #refused > 0 then
    msg = ('%s applied %d of %d hunks; refused %s; applied to %s'):format(
      label, applied, total, table.concat(parts, '; '), files)
  else
    msg = ('%s applied to %s (%d of %d hunks)'):format(label, files, applied, total)
  end
  if applied > 0 then
    msg = msg .. ' — :Scopewise revert takes it back'
  end
  notify(one_line(msg), #refused > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
end

--- Applies in flight, by client id: their server messages are held back (see report()).
local applying = {}

--- window/showMessage from the server (routed here by lsp/scopewise.lua): true when it is
--- the server's own word on an apply in flight, which the apply's one message replaces.
function M.holds_message(result, ctx)
  local level = type(result) == 'table' and result.type or 1
  return (applying[ctx.client_id] or 0) > 0 and level ~= vim.lsp.protocol.MessageType.Error
end

--- Apply the accepted hunks (undecided ones count as rejected) through scopewise.applyProposal;
--- the buffers' text is remembered first for :Scopewise revert.
--- @param review table
--- @param on_done? fun(result: table?, err: table?)
function M.apply(review, on_done)
  if review.done then
    return
  end
  local accepted = {}
  for _, id in ipairs(review.order) do
    if review.status[id] == 'accepted' then
      table.insert(accepted, id)
    end
  end
  if #accepted == 0 then
    M.discard(review)
    return on_done and on_done(nil, nil)
  end
  local client = client_of(review)
  if not client then
    return notify('the server is gone; the proposal cannot be applied', vim.log.levels.ERROR)
  end
  -- every file's text before the edit: its buffer's, else the file's (the edit loads it);
  -- the files it creates, with the folders made for them
  local before, created = {}, {}
  for _, file in ipairs(review.proposal.files or {}) do
    local name = fname(file)
    local buf = vim.fn.bufnr(name)
    if buf ~= -1 and api.nvim_buf_is_loaded(buf) then
      before[name] = lines_of(buf)
    elseif vim.fn.filereadable(name) == 1 then
      before[name] = vim.fn.readfile(name)
    elseif file.created == true and not vim.uv.fs_stat(name) then
      created[name] = missing_dirs(name)
    end
  end
  local total = #review.order
  close(review)
  M.last = { applying = true }
  applying[client.id] = (applying[client.id] or 0) + 1
  request(client, 'workspace/executeCommand', {
    command = APPLY,
    arguments = { { id = review.proposal.id, hunks = accepted } },
  }, function(err, result)
    applying[client.id] = math.max((applying[client.id] or 1) - 1, 0)
    M.last = nil
    if err then
      notify('apply: ' .. tostring(err.message), vim.log.levels.ERROR)
      return on_done and on_done(nil, err)
    end
    result = type(result) == 'table' and result or {}
    local buffers = {}
    for name, lines in pairs(before) do
      local buf = vim.fn.bufnr(name)
      if buf ~= -1 and api.nvim_buf_is_loaded(buf) then
        local after = lines_of(buf)
        if not vim.deep_equal(after, lines) then
          table.insert(buffers, { bufnr = buf, before = lines, after = after })
        end
      end
    end
    for name, dirs in pairs(created) do
      local buf = vim.fn.bufnr(name)
      if buf ~= -1 and api.nvim_buf_is_loaded(buf) and vim.uv.fs_stat(name) then
        local entry = { name = name, dirs = dirs }
        table.insert(buffers, { bufnr = buf, after = lines_of(buf), created = entry })
      end
    end
    if #buffers > 0 then
      M.last = { title = review.proposal.title, buffers = buffers }
    end
    report(review, result, total)
    if on_done then
      on_done(result, nil)
    end
  end)
end

local diff = (vim.text and vim.text.diff) or vim.diff

--- Set a buffer's lines from `from` to `to`, changing only the lines that differ (marks,
--- folds and the cursor elsewhere stay put).
local function set_minimal(buf, from, to)
  local a = table.concat(from, '\n') .. '\n'
  local b = table.concat(to, '\n') .. '\n'
  local hunks = diff(a, b, { result_type = 'indices' })
  for i = #hunks, 1, -1 do
    local sa, ca, sb, cb = unpack(hunks[i])
    local repl = vim.list_slice(to, sb, sb + cb - 1)
    if ca == 0 then
      api.nvim_buf_set_lines(buf, sa, sa, false, repl)
    else
      api.nvim_buf_set_lines(buf, sa - 1, sa - 1 + ca, false, repl)
    end
  end
end

--- A file the edit created: its buffer wiped, the file and the folders made for it deleted
--- (a folder only while empty). Proposals never delete files, so none is restored.
local function uncreate(b)
  api.nvim_buf_delete(b.bufnr, { force = true })
  local ok, err = os.remove(b.created.name)
  if not ok and vim.uv.fs_stat(b.created.name) then
    notify('could not delete ' .. b.created.name .. ': ' .. tostring(err), vim.log.levels.WARN)
  end
  for _, dir in ipairs(b.created.dirs) do
    vim.uv.fs_rmdir(dir)
  end
end

--- Take the last applied edit back in every buffer it changed, and delete the files it
--- created. A buffer edited since is left alone (and named): its own undo history has both.
--- @return integer how many buffers were reverted
function M.revert()
  local last = M.last
  if not last then
    notify('no applied proposal to revert', vim.log.levels.WARN)
    return 0
  elseif last.applying then
    notify('the edit is still being applied; revert it once it is', vim.log.levels.WARN)
    return 0
  end
  local done, skipped = {}, {}
  for _, b in ipairs(last.buffers) do
    local name = api.nvim_buf_is_valid(b.bufnr) and vim.fn.fnamemodify(api.nvim_buf_get_name(b.bufnr), ':~:.') or ('buffer ' .. b.bufnr)
    if api.nvim_buf_is_valid(b.bufnr) and vim.deep_equal(lines_of(b.bufnr), b.after) then
      if b.created then
        uncreate(b)
        name = name .. ' (deleted)'
      else
        set_minimal(b.bufnr, b.after, b.before)
      end
      table.insert(done, name)
    else
      table.insert(skipped, name)
    end
  end
  M.last = nil
  local msg = ('reverted %s'):format(#done > 0 and table.concat(done, ', ') or 'nothing')
  if #skipped > 0 then
    msg = msg .. '; changed since, left alone (use undo there): ' .. table.concat(skipped, ', ')
  end
  notify(one_line(msg), #skipped > 0 and vim.log.levels.WARN or vim.log.levels.INFO)
  return #done
end

-- --------------------------------------------------------------------------- deciding

local function decide(review, ids, status)
  for _, id in ipairs(ids) do
    review.status[id] = status
  end
  redraw(review)
  for _, id in ipairs(review.order) do
    if review.status[id] == nil then
      return false
    end
  end
  -- every hunk decided: done
  M.apply(review)
  return true
end

local function move(review, dir)
  local row = api.nvim_win_get_cursor(0)[1]
  local lines = vim.tbl_keys(review.headers)
  table.sort(lines)
  if dir < 0 then
    lines = vim.fn.reverse(lines)
  end
  for _, line in ipairs(lines) do
    if (dir > 0 and line > row) or (dir < 0 and line < row) then
      api.nvim_win_set_cursor(0, { line, 0 })
      return true
    end
  end
  return false
end

--- The next undecided hunk after the cursor (wrapping), for after a decision.
local function to_next_pending(review)
  local here = current(review)
  local n = #review.order
  local start = 0
  for i, id in ipairs(review.order) do
    if id == here then
      start = i
    end
  end
  for k = 1, n do
    local id = review.order[(start + k - 1) % n + 1]
    if review.status[id] == nil then
      api.nvim_win_set_cursor(0, { line_of(review, id), 0 })
      return
    end
  end
end

--- The actions of the review buffer (what the keys do), usable from Lua too.
M.actions = {
  accept = function(review)
    local id = current(review)
    if id and not decide(review, { id }, 'accepted') then
      to_next_pending(review)
    end
  end,
  reject = function(review)
    local id = current(review)
    if id and not decide(review, { id }, 'rejected') then
      to_next_pending(review)
    end
  end,
  next = function(review)
    move(review, 1)
  end,
  prev = function(review)
    move(review, -1)
  end,
  accept_all = function(review)
    local pending = vim.tbl_filter(function(id)
      return review.status[id] == nil
    end, review.order)
    decide(review, pending, 'accepted')
  end,
  reject_all = function(review)
    local pending = vim.tbl_filter(function(id)
      return review.status[id] == nil
    end, review.order)
    decide(review, pending, 'rejected')
  end,
  apply = function(review)
    M.apply(review)
  end,
  jump = function(review)
    local id = current(review)
    local w = id and review.where[id]
    if w then
      -- another window of this tab, else a new split above (the review stays open)
      local target
      for _, win in ipairs(api.nvim_tabpage_list_wins(0)) do
        if api.nvim_win_get_buf(win) ~= review.bufnr and api.nvim_win_get_config(win).relative == '' then
          target = win
          break
        end
      end
      if target then
        api.nvim_set_current_win(target)
      else
        vim.cmd('aboveleft split')
      end
      vim.cmd.edit(vim.fn.fnameescape(fname(w.file)))
      local count = api.nvim_buf_line_count(0)
      api.nvim_win_set_cursor(0, { math.min(math.max(tonumber(w.hunk.start) or 1, 1), count), 0 })
    end
  end,
  close = function(review)
    M.discard(review)
  end,
  revise = function(review)
    require('scopewise.revise').proposal(review)
  end,
}

-- --------------------------------------------------------------------------- showing

--- Open the review buffer per config.review; the tab it opened, if any.
local function open_window(buf)
  local how = config().review or 'tab'
  local tab
  if how == 'tab' then
    vim.cmd.tabnew()
    tab = api.nvim_get_current_tabpage()
    local scratch = api.nvim_get_current_buf()
    api.nvim_win_set_buf(0, buf)
    if scratch ~= buf and api.nvim_buf_is_valid(scratch) then
      pcall(api.nvim_buf_delete, scratch, { force = true })
    end
  elseif how == 'current' then
    api.nvim_win_set_buf(0, buf)
  else
    api.nvim_open_win(buf, true, { split = how == 'vsplit' and 'right' or 'below', win = -1 })
  end
  return tab
end

--- Show a proposal for review (once per id).
--- @param proposal table the proposal (see :help scopewise-review)
--- @param client_id integer the scopewise client that made it
--- @return table? review
function M.show(proposal, client_id)
  if type(proposal) ~= 'table' or type(proposal.id) ~= 'string' or not is_list(proposal.files) then
    return nil
  end
  if M.reviews[proposal.id] or seen[proposal.id] then
    return M.reviews[proposal.id] -- once: the notification and the run's result are the same
  end
  seen[proposal.id] = true
  -- a revised proposal replaces the one it revises (the server has discarded that one)
  local old = type(proposal.supersedes) == 'string' and M.reviews[proposal.supersedes]
  if old then
    close(old)
  end
  local review = { proposal = proposal, client_id = client_id, status = {}, opened = vim.uv.hrtime() }
  local buf = api.nvim_create_buf(false, true)
  review.bufnr = buf
  M.reviews[proposal.id] = review
  pcall(api.nvim_buf_set_name, buf, 'scopewise://review/' .. proposal.id)
  vim.bo[buf].bufhidden = 'wipe'
  vim.bo[buf].swapfile = false
  vim.b[buf].scopewise_review = proposal.id
  redraw(review)
  vim.bo[buf].filetype = 'diff'
  for action, lhs in pairs(keys()) do
    if lhs and lhs ~= '' and M.actions[action] then
      vim.keymap.set('n', lhs, function()
        M.actions[action](review)
      end, { buffer = buf, nowait = true, desc = 'scopewise review: ' .. action:gsub('_', ' ') })
    end
  end
  api.nvim_create_autocmd('BufWipeout', {
    buffer = buf,
    once = true,
    callback = function()
      if not review.done then
        vim.schedule(function()
          M.discard(review)
        end)
      end
    end,
  })
  M.quickfix(proposal)
  review.tab = open_window(buf)
  local first = review.order[1] and line_of(review, review.order[1])
  if first then
    api.nvim_win_set_cursor(0, { first, 0 })
  end
  return review
end

--- `scopewise/proposal` from the server (routed here by lsp/scopewise.lua).
function M.on_proposal(err, result, ctx)
  if err or type(result) ~= 'table' then
    return
  end
  M.show(result, ctx.client_id)
end

--- The review of the current buffer, if it is one.
function M.current()
  local id = vim.b.scopewise_review
  return id and M.reviews[id] or nil
end

return M
