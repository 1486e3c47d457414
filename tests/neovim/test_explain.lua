-- Explain: the stock code_action runs it and the Markdown document the server writes to its
-- cache folder opens in a split (the default) with the answer in it; :Scopewise explain on a
-- range opens the next one in a float (setup{explain = 'float'}), `q` closes it; progress
-- goes through Neovim's LSP progress to the configured display.
-- Replies queued by test_neovim.py: two explanations.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local function lines_of(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- The explanation streams into a buffer of its own first; its document replaces it at the end.
local function document_of(win)
  T.wait('the explanation document', function()
    return vim.api.nvim_buf_get_name(vim.api.nvim_win_get_buf(win)):match('%.md$')
  end)
  return vim.api.nvim_win_get_buf(win)
end

local function check_document(buf, answer)
  local name = vim.api.nvim_buf_get_name(buf)
  local folder = vim.uv.fs_realpath(vim.env.SCOPEWISE_CACHE_DIR .. '/explanations')
  T.ok(folder and vim.startswith(vim.uv.fs_realpath(name) or '', folder .. '/'),
    'the document is in the cache folder: ' .. name)
  T.ok(name:match('%.md$'), 'a Markdown file: ' .. name)
  T.eq(vim.bo[buf].filetype, 'markdown', 'filetype')
  local text = lines_of(buf)
  T.ok(text:find('# Explain · shop/pricing.py:29-32', 1, true), 'the heading in:\n' .. text)
  T.ok(text:find(answer, 1, true), 'the answer in:\n' .. text)
  T.ok(text:find('## Context sent', 1, true), 'the context manifest in:\n' .. text)
  T.ok(text:find('$', 1, true), 'the cost in:\n' .. text)
end

T.run(function()
  T.setup()
  local progress = {}
  require('scopewise').setup({
    progress = function(line)
      table.insert(progress, line)
    end,
  })
  local buf = T.open('shop/pricing.py')
  local code_win = vim.api.nvim_get_current_win()
  T.client(buf)

  -- 1. the stock code_action; the document opens in a split and takes the focus
  T.code_action(29, 32, T.titled('Explain'))
  T.wait('the explanation to open', function()
    return #vim.api.nvim_tabpage_list_wins(0) == 2
  end)
  local win = vim.api.nvim_get_current_win()
  T.ok(win ~= code_win, 'the explanation window has the focus')
  T.eq(vim.api.nvim_win_get_config(win).relative, '', 'a split, not a float')
  local doc = document_of(win)
  check_document(doc, '`apply_discount` takes a capped discount off a price.')
  T.eq(vim.api.nvim_win_get_buf(code_win), buf, 'the code stays in its window')

  local joined = table.concat(progress, '\n')
  T.ok(joined:find('scopewise: thinking… ', 1, true), 'thinking progress in:\n' .. joined)
  T.ok(joined:find('scopewise: done · %$%d'), 'the cost at the end in:\n' .. joined)
  -- titled as the menu entry: the tier, why, the cost
  T.ok(joined:find(' — Explain · quick: a short read · <%$0%.01'), 'the reason for the tier in:\n'
    .. joined)

  -- 2. :Scopewise explain on a range, in a float
  require('scopewise').setup({ explain = 'float' })
  vim.api.nvim_set_current_win(code_win)
  vim.cmd('29,32Scopewise explain')
  T.wait('the explanation float', function()
    return vim.api.nvim_win_get_config(0).relative ~= ''
  end)
  local float = vim.api.nvim_get_current_win()
  check_document(document_of(float), 'It clamps the rate first.')
  T.ok(vim.api.nvim_win_get_buf(float) ~= doc, 'a new document')
  vim.api.nvim_feedkeys('q', 'x', false)
  T.ok(not vim.api.nvim_win_is_valid(float), '`q` closes the float')
end)
