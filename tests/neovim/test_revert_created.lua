-- :Scopewise revert takes back an accepted edit that created a file: the edited buffer gets
-- its text back, and the created file (with the folder made for it) is deleted, its buffer
-- gone, in the one command.
-- Reply queued by test_neovim.py: shop/rates/capping.py created, shop/pricing.py calls it.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local PRICING_OLD = '    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n'
local PRICING_NEW = '    rate = capped(rate)\n'

T.run(function()
  T.setup()
  require('scopewise').setup()
  vim.o.hidden = true
  vim.o.columns = 200
  local edits = T.record_edits()
  local disk = T.read('shop/pricing.py')
  local pricing = T.open('shop/pricing.py')
  T.client(pricing)
  local created = T.path('shop/rates/capping.py')
  T.ok(not vim.uv.fs_stat(T.path('shop/rates')), 'no shop/rates before')

  vim.cmd('29,32Scopewise refactor move the clamp into a module of its own')
  local review = T.accept()
  T.ok(vim.tbl_contains(vim.tbl_map(function(f)
    return f.created == true and f.path or nil
  end, review.proposal.files), 'shop/rates/capping.py'), 'the proposal creates the file')
  T.wait_text(pricing, T.replace(disk, PRICING_OLD, PRICING_NEW), 'pricing.py: accepted')
  T.wait('the created file', function()
    local buf = vim.fn.bufnr(created)
    return buf ~= -1 and T.text(buf):find('def capped', 1, true) ~= nil
  end)
  T.ok(vim.uv.fs_stat(created), 'the edit created the file on disk')
  T.eq(#edits, 1, 'one workspace/applyEdit')
  T.wait_message('(2 of 2 hunks)')

  vim.cmd('Scopewise revert')
  T.eq(T.text(pricing), disk, 'pricing.py after :Scopewise revert')
  T.ok(not vim.uv.fs_stat(created), 'the created file is deleted')
  T.ok(not vim.uv.fs_stat(T.path('shop/rates')), 'and the folder made for it')
  T.eq(vim.fn.bufnr(created), -1, 'its buffer is gone')
  local said = T.wait_message('reverted').message
  T.ok(said:find('capping.py (deleted)', 1, true) and said:find('pricing.py', 1, true),
    'the revert names both: ' .. said)
end)
