-- The new-user walkthrough in real Neovim (run by tests/benchmarks/walkthrough.py, not by the
-- test suite): on a small real project, what a new user does with the helper — open a file,
-- the code-action menu (tier and cost), Explain (streamed), Refactor… → the intent → the
-- review → accept one hunk → :Scopewise revert. Each step prints one line
--   WALK<TAB>step<TAB>what is seen<TAB>elapsed ms
-- timed from the user's action to what the step shows. Env (besides helpers.lua's):
-- WALK_FILE (relative), WALK_LINE (a line inside the function), WALK_INTENT, WALK_OLD/WALK_NEW
-- (the text the accepted hunk changes).
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local FILE, LINE = vim.env.WALK_FILE, tonumber(vim.env.WALK_LINE)
local INTENT, OLD, NEW = vim.env.WALK_INTENT, vim.env.WALK_OLD, vim.env.WALK_NEW

local function now()
  return vim.uv.hrtime() / 1e6
end

local function walk(step, seen, since)
  local text = tostring(seen):gsub('[\t\n]', ' ')
  T.log(('WALK\t%s\t%s\t%.0f'):format(step, text, now() - since))
end

--- The explanation window's buffer text (nil: none open).
local function explanation()
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local b = vim.api.nvim_win_get_buf(w)
    if vim.b[b].scopewise_explanation then
      return table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n'), w
    end
  end
end

--- Open the code-action menu at the cursor (the stock vim.lsp.buf.code_action); pick the
--- entry whose title starts with `prefix`. The titles shown, and when the menu showed.
local function menu(prefix)
  local shown, at
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    vim.ui.select = select
    shown, at = vim.tbl_map(opts.format_item, items), now()
    for i, item in ipairs(items) do
      if prefix and vim.startswith(shown[i], prefix) then
        return on_choice(item, i)
      end
    end
    on_choice(nil)
  end
  vim.lsp.buf.code_action()
  T.wait('the code-action menu', function()
    return shown ~= nil
  end)
  return shown, at
end

local function has(lines, needle)
  return table.concat(lines, '\n'):find(needle, 1, true) ~= nil
end

T.run(function()
  T.setup()
  require('scopewise').setup({ progress = vim.env.WALK_PROGRESS ~= nil })
  vim.o.columns, vim.o.lines = 160, 48

  -- 1. open a file: the server attaches and indexes the project
  local t = now()
  local buf = T.open(FILE)
  local client = T.client(buf)
  local index = require('scopewise').progress[client.id].index.message
  walk('open ' .. FILE, 'attached; ' .. index, t)

  -- 2. the menu at the cursor inside the function
  vim.api.nvim_win_set_cursor(0, { LINE, 4 })
  t = now()
  local shown, at = menu(nil)
  walk('code-action menu (line ' .. LINE .. ')', table.concat(shown, ' | '), t)
  T.ok(at and #shown <= 6, 'a short menu')

  -- 3. Explain: the first streamed text, then the whole document
  t = now()
  menu('Explain ·')
  T.wait('the first streamed text', function()
    local text = explanation()
    return text and #vim.trim(text) > 0
  end)
  local first = explanation()
  walk('Explain: first text visible', #first .. ' chars in the split', t)
  T.wait('the finished explanation', function()
    local text = explanation()
    return text and text:find('## Context sent', 1, true) ~= nil
  end, 30000)
  local whole, win = explanation()
  walk('Explain: the whole document', #whole .. ' chars; winbar ' .. vim.wo[win].winbar, t)
  vim.cmd('only')
  vim.api.nvim_set_current_buf(buf)

  -- 4. Refactor…: which change (the server asks), then the review
  vim.api.nvim_win_set_cursor(0, { LINE, 4 })
  -- the server asks with window/showMessageRequest: the user picks the intent by its name
  local select = vim.ui.select
  vim.ui.select = function(items, opts, on_choice)
    if opts.kind ~= 'lsp_message' then
      return select(items, opts, on_choice)
    end
    local titles = vim.tbl_map(function(i)
      return i.title
    end, items)
    walk('Refactor…: which change?', table.concat(titles, ' | '), t)
    t = now()
    for _, item in ipairs(items) do
      if vim.startswith(item.title, INTENT) then
        return on_choice(item)
      end
    end
    on_choice(nil)
  end
  t = now()
  menu('Refactor…')
  local review
  T.wait('the review of the proposal', function()
    review = require('scopewise.review').current()
    return review ~= nil
  end, 30000)
  local files = vim.tbl_map(function(f)
    return f.path .. ' (' .. #f.hunks .. ')'
  end, review.proposal.files)
  walk('review opens', review.proposal.title .. ' — ' .. table.concat(files, ', '), t)

  -- 5. accept the hunk in FILE only, apply (the others are not applied)
  local target
  for _, f in ipairs(review.proposal.files) do
    if f.path == FILE then
      target = f.hunks[1].id
    end
  end
  for line, id in pairs(review.headers) do
    if id == target then
      vim.api.nvim_win_set_cursor(0, { line, 0 })
    end
  end
  vim.api.nvim_feedkeys('a', 'x', false)
  t = now()
  vim.api.nvim_feedkeys('s', 'x', false)
  local note = T.wait_message('applied to')
  T.wait_text(buf, T.replace(T.read(FILE), OLD, NEW), 'the accepted hunk')
  walk('accept one hunk, apply', note.message, t)

  -- 6. take it back: one command
  t = now()
  vim.cmd('Scopewise revert')
  T.eq(T.text(buf), T.read(FILE), 'the file as before')
  walk(':Scopewise revert', T.notes[#T.notes].msg, t)
  T.ok(not has(vim.api.nvim_buf_get_lines(buf, 0, -1, false), NEW), 'reverted')
end)
