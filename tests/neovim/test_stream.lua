-- A streamed explanation: the helper advertises `stream`; the explanation opens at the first
-- text, before the answer ends, and fills as it arrives; at the end its document replaces it.
-- A cancelled one keeps what arrived and ends with "(cut)" (the line and the window bar).
-- Replies queued by test_neovim.py: two slow explanations.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local function lines_of(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- The window showing an explanation, and its buffer's text.
local function explanation()
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local b = vim.api.nvim_win_get_buf(w)
    if vim.b[b].scopewise_explanation then
      return w, lines_of(b)
    end
  end
end

T.run(function()
  T.setup()
  require('scopewise').setup({ progress = false })
  local buf = T.open('shop/pricing.py')
  local client = T.client(buf)
  T.eq(client.config.capabilities.experimental, { scopewise = { stream = true, review = true } },
    'the helper advertises stream (and review)')

  -- 1. text visible before the answer ends
  local done
  require('scopewise').explain({ bufnr = buf, line1 = 29, line2 = 32, on_done = function(r)
    done = r or {}
  end })
  T.wait('the first streamed text', function()
    local _, text = explanation()
    return text and text:find('Step 0:', 1, true)
  end)
  T.ok(done == nil, 'the text shows before the answer ends')
  local win, early = explanation()
  T.ok(not early:find('Step 39:', 1, true), 'not all of it yet:\n' .. early)
  T.ok(vim.b[vim.api.nvim_win_get_buf(win)].scopewise_stream ~= nil, 'the streamed buffer')
  T.wait('more text to arrive', function()
    local _, text = explanation()
    return #text > #early
  end)
  T.wait('the answer', function()
    return done ~= nil
  end)
  T.ok(done.shown == true, 'shown: ' .. vim.inspect(done))
  T.wait('the document to replace the streamed text', function()
    local w = explanation()
    return w and vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(w)):match('%.md$')
  end)
  local w, text = explanation()
  T.eq(w, win, 'the same window')
  T.ok(text:find('Step 39: every step is here.', 1, true), 'the whole answer in:\n' .. text)
  T.ok(text:find('## Context sent', 1, true), 'the document in:\n' .. text)
  T.ok(vim.wo[w].winbar:find('done', 1, true), 'winbar: ' .. vim.wo[w].winbar)
  T.ok(vim.fn.mode() == 'n', 'no prompt: ' .. vim.fn.mode())

  -- 2. cancelled: what arrived stays, marked (cut)
  vim.cmd('only')
  vim.api.nvim_set_current_buf(buf)
  done = nil
  require('scopewise').explain({ bufnr = buf, line1 = 29, line2 = 32, on_done = function(r)
    done = r or {}
  end })
  T.wait('the first streamed text', function()
    local _, t = explanation()
    return t and t:find('Step 1:', 1, true)
  end)
  T.ok(require('scopewise').cancel() == 1, 'one run cancelled')
  T.wait('the cancelled answer', function()
    return done ~= nil
  end)
  T.ok(done.cancelled == true and type(done.document) == 'string', vim.inspect(done))
  T.wait('the cut document', function()
    local _, t = explanation()
    return t and t:find('(cut) cancelled after', 1, true)
  end)
  w, text = explanation()
  T.ok(text:find('Step 0: every step is here.', 1, true), 'what arrived is kept:\n' .. text)
  T.ok(not text:find('Step 39:', 1, true), 'not the rest:\n' .. text)
  T.ok(vim.wo[w].winbar:find('(cut)', 1, true), 'winbar: ' .. vim.wo[w].winbar)
end)
