-- A project action (`[[actions]]` in .scopewise.toml, written by test_neovim.py): in the menu
-- with its tier and cost (only in the files its globs match), `:Scopewise action {name}`
-- completes the names, runs an edit-like one as a proposal reviewed and accepted, and an
-- explain-like one as an explanation filling its window.
-- Replies queued by test_neovim.py: the docstring edit, then the QA explanation.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local OLD = 'def clamp(value: float, low: float, high: float) -> float:\n'
local NEW = OLD .. '    """`value` kept between `low` and `high`."""\n'

T.run(function()
  T.setup()
  require('scopewise').setup()
  vim.o.hidden = true
  local cart = T.open('shop/cart.py')
  local pricing = T.open('shop/pricing.py')
  T.client(pricing)

  -- 1. in the menu, with tier and cost like the built-ins; not in a file it does not match
  local titles = T.titles(T.actions(pricing, 25, 26))
  T.log('menu: ' .. table.concat(titles, ' | '))
  T.ok(#titles <= 6, 'at most 6 entries: ' .. vim.inspect(titles))
  local docs = vim.tbl_filter(function(t)
    return vim.startswith(t, 'Add docstrings · quick')
  end, titles)[1]
  T.ok(docs and docs:match(' · [<~]%$%d+%.%d+$'), 'tier and cost in: ' .. vim.inspect(titles))
  local other = T.titles(T.actions(cart, 13, 14))
  for _, t in ipairs(other) do
    T.ok(not vim.startswith(t, 'Add docstrings'), 'only in shop/pricing.py: ' .. t)
  end

  -- 2. :Scopewise action completes the names that apply here
  local names = vim.fn.getcompletion('Scopewise action ', 'cmdline')
  T.ok(vim.tbl_contains(names, 'Add docstrings') and vim.tbl_contains(names, 'Explain for QA'),
    'completion: ' .. vim.inspect(names))

  -- 3. the edit-like one: a proposal, reviewed, accepted
  local before = T.text(pricing)
  vim.cmd('25,26Scopewise action Add docstrings')
  local review = T.accept()
  T.ok(tostring(review.proposal.title):find('1 change in 1 file', 1, true),
    'the proposal: ' .. vim.inspect(review.proposal.title))
  T.wait_text(pricing, T.replace(before, OLD, NEW), 'the accepted docstring')

  -- 4. the explain-like one: its text in the explanation window
  vim.cmd('wincmd p')
  vim.cmd.buffer(pricing)
  vim.cmd('29,32Scopewise action Explain for QA')
  T.wait('the QA explanation', function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      local b = vim.api.nvim_win_get_buf(w)
      local text = table.concat(vim.api.nvim_buf_get_lines(b, 0, -1, false), '\n')
      if vim.b[b].scopewise_explanation and text:find('Try a negative rate', 1, true) then
        return true
      end
    end
    return false
  end)
end)
