-- :Scopewise — refactor with the intent picked with vim.ui.select (its last item: a free
-- instruction asked through vim.ui.input), refactor with an
-- intent given on the command line, usage, reindex, cancel of a running action; completion.
-- Replies queued by test_neovim.py: two edits, then one slow explanation (cancelled).
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local function noted(needle)
  for _, n in ipairs(T.notes) do
    if n.msg:find(needle, 1, true) then
      return true
    end
  end
  return false
end

T.run(function()
  T.setup()
  require('scopewise').setup()
  local buf = T.open('shop/pricing.py')
  local client = T.client(buf)

  T.eq(vim.fn.getcompletion('Scopewise ', 'cmdline'),
    { 'explain', 'refactor', 'fix', 'action', 'revise', 'revert', 'usage', 'reindex', 'tests', 'cancel' },
    'subcommands')
  T.eq(vim.fn.getcompletion('Scopewise re', 'cmdline'), { 'refactor', 'revise', 'revert', 'reindex' },
    're<Tab>')
  T.eq(vim.fn.getcompletion('Scopewise refactor add', 'cmdline'), { 'add types' }, 'an intent')
  T.eq(vim.fn.getcompletion('Scopewise refactor extract f', 'cmdline'), { 'function' },
    'the second word of an intent')

  -- the intents picked with vim.ui.select; the last item: a free instruction (vim.ui.input)
  local prompt, choices
  vim.ui.select = function(items, _, on_choice)
    choices = items
    on_choice(items[#items])
  end
  vim.ui.input = function(opts, on_confirm)
    prompt = opts.prompt
    on_confirm('inline the clamp call')
  end
  local expected = T.replace(T.text(buf), '    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n',
    '    rate = max(0.0, min(MAX_DISCOUNT, rate))\n')
  vim.cmd('29,32Scopewise refactor')
  T.accept()
  T.eq(choices, { 'simplify', 'extract function', 'improve names', 'add types',
    'make idiomatic', 'other instruction…' }, 'the refactor intents offered')
  T.ok(prompt and prompt:find('instruction', 1, true), 'the input prompt: ' .. tostring(prompt))
  T.wait_text(buf, expected, ':Scopewise refactor with an instruction')

  -- an intent on the command line, the cursor inside the function (no range)
  vim.ui.input = function()
    T.fail('no question expected when the intent is given')
  end
  vim.ui.select = function()
    T.fail('no choice expected when the intent is given')
  end
  expected = T.replace(T.text(buf), 'def _helper() -> None:', 'def _helper() -> None:  # typed')
  vim.api.nvim_win_set_cursor(0, { 36, 4 })
  vim.cmd('Scopewise refactor add types')
  T.accept()
  T.wait_text(buf, expected, ':Scopewise refactor add types')

  -- usage: two calls this session
  vim.cmd('Scopewise usage')
  local usage = T.wait_message('this session $')
  T.ok(usage.message:find('(2 calls)', 1, true), usage.message)

  -- reindex
  vim.cmd('Scopewise reindex')
  T.wait('the reindex notification', function()
    return noted('scopewise: indexed 15 files')
  end)

  -- cancel a slow explanation: the progress ends as cancelled; what arrived stays, cut
  local runs = require('scopewise').progress[client.id].runs
  local wins = #vim.api.nvim_list_wins()
  vim.cmd('29,32Scopewise explain')
  T.wait('the explanation to start', function()
    return next(runs) ~= nil
  end)
  vim.wait(300)
  vim.cmd('Scopewise cancel')
  T.wait('the run to end', function()
    return next(runs) == nil
  end)
  T.wait('the cut explanation', function()
    for _, w in ipairs(vim.api.nvim_list_wins()) do
      local text = table.concat(vim.api.nvim_buf_get_lines(vim.api.nvim_win_get_buf(w), 0, -1, false), '\n')
      if text:find('(cut) cancelled after', 1, true) then
        return true
      end
    end
  end)
  T.eq(#vim.api.nvim_list_wins(), wins + 1, 'windows after a cancelled explanation')
  vim.cmd('Scopewise cancel')
  T.ok(noted('scopewise: nothing is running'), 'cancel with nothing running says so')

  pcall(vim.cmd, 'Scopewise frobnicate') -- an error message: raised in a script
  T.ok(noted('unknown subcommand "frobnicate"'), 'an unknown subcommand is named')
end)
