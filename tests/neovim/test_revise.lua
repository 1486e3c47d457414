-- "Revise…" with the helper and the real server: in the review buffer `e` asks the
-- instruction with vim.ui.input (the prompt says the follow-up's tier and cost), and the
-- revised proposal replaces the old one in the review; `:Scopewise revise {instruction}`
-- after an explanation streams the revised text into a new explanation buffer.
-- Replies queued by test_neovim.py: a refactor, its revision, an explanation, its revision.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local OLD = 'TAX_RATE = 0.2\n'
local REVISED = 'TAX_RATE = 0.2  # revised\n'

local function press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'x', false)
end

local function lines_of(buf)
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), '\n')
end

--- The text of the window showing an explanation (nil when there is none).
local function explanation()
  for _, w in ipairs(vim.api.nvim_tabpage_list_wins(0)) do
    local b = vim.api.nvim_win_get_buf(w)
    if vim.b[b].scopewise_explanation then
      return lines_of(b), b
    end
  end
end

T.run(function()
  T.setup()
  require('scopewise').setup({ progress = false })
  vim.o.hidden = true
  vim.o.columns = 200
  local review = require('scopewise.review')
  local prompts = {}
  vim.ui.input = function(opts, on_confirm) -- the user types the instruction
    table.insert(prompts, opts.prompt)
    on_confirm('keep the old value NVIM-REVISE')
  end
  local disk = T.read('shop/pricing.py')
  local pricing = T.open('shop/pricing.py')
  T.client(pricing)

  -- 1. a proposal: `e` asks with the cost, the revised proposal replaces it
  vim.cmd('29,32Scopewise refactor simplify')
  local old
  T.wait('the review of the proposal', function()
    old = review.current()
    return old ~= nil
  end)
  T.ok(lines_of(old.bufnr):find('e revise', 1, true), 'the review says how to revise:\n' .. lines_of(old.bufnr))
  T.ok(lines_of(old.bufnr):find('+TAX_RATE = 0.25', 1, true), 'the first change:\n' .. lines_of(old.bufnr))
  press('e')
  T.ok(prompts[1] and prompts[1]:match('^Revise… %((%a+), [~<]%$[%d.]+, cached%): $'),
    'the prompt says the tier and cost: ' .. tostring(prompts[1]))
  -- asked once the prompt cache has let the prefix go: the uncached estimate, not "cached"
  local cost = old.proposal.revise
  local later = require('scopewise.revise').prompt(cost, cost.cachedUntil + 1)
  T.ok(later:match('^Revise… %((%a+), [~<]%$[%d.]+%): $') and later ~= prompts[1],
    'a later prompt: ' .. later .. ' (first: ' .. prompts[1] .. ')')
  local new
  T.wait('the revised proposal', function()
    new = review.current()
    return new ~= nil and new.proposal.id ~= old.proposal.id
  end)
  T.eq(new.proposal.supersedes, old.proposal.id, 'the new proposal supersedes the old one')
  T.ok(review.reviews[old.proposal.id] == nil and old.done, 'the old review is closed')
  T.ok(not vim.api.nvim_buf_is_valid(old.bufnr), 'the old review buffer is gone')
  local text = lines_of(new.bufnr)
  T.ok(text:find('+TAX_RATE = 0.2  # revised', 1, true) and not text:find('0.25', 1, true),
    'the review shows the revised change:\n' .. text)
  press('A')
  T.wait_text(pricing, T.replace(disk, OLD, REVISED), 'pricing.py: the revised change')

  -- 2. an explanation: :Scopewise revise {instruction} streams a new one
  vim.cmd('only')
  vim.api.nvim_set_current_buf(pricing)
  local done
  require('scopewise').explain({ bufnr = pricing, line1 = 29, line2 = 32, on_done = function(r)
    done = r or {}
  end })
  T.wait('the explanation', function()
    return done ~= nil
  end)
  T.wait('the explanation document', function()
    local t = explanation()
    return t and t:find('NVIM-LONG', 1, true) and t:find('## Context sent', 1, true)
  end)
  local _, first_buf = explanation()
  T.ok(require('scopewise.revise').last_explanation ~= nil, 'the explanation can be revised')
  vim.api.nvim_set_current_buf(pricing)
  vim.cmd('only')
  vim.cmd('Scopewise revise shorter NVIM-SHORTER')
  T.wait('the revised explanation', function()
    local t, b = explanation()
    return t and b ~= first_buf and t:find('NVIM-SHORT:', 1, true) and t:find('## Context sent', 1, true)
  end)
  local t = explanation()
  T.ok(not t:find('NVIM-LONG', 1, true), 'a new document, the revised text alone:\n' .. t)
  T.eq(#prompts, 1, 'no question when the instruction is given')
end)
