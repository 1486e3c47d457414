-- Review before it lands, with the helper and the real server: a refactor of two files opens
-- one review buffer; accepting the hunk in shop/pricing.py and rejecting the one in
-- shop/cart.py applies exactly the first (cart.py byte-identical); a second proposal rejected
-- whole changes nothing; a third accepted whole is taken back by one :Scopewise revert.
-- Replies queued by test_neovim.py: the same two-file edit, three times.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local PRICING_OLD = '    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n'
local PRICING_NEW = '    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped\n'
local CART_OLD = '        return apply_discount(base, 0.1)\n'
local CART_NEW = '        return apply_discount(base, rate=0.1)\n'

local function press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'x', false)
end

local function noted(needle)
  for _, n in ipairs(T.notes) do
    if n.msg:find(needle, 1, true) then
      return n
    end
  end
end

--- Run the refactor and wait for its review; the review.
local function refactor()
  local review = require('scopewise.review')
  vim.cmd('29,32Scopewise refactor simplify')
  local r
  T.wait('the review of the proposal', function()
    r = review.current()
    return r ~= nil
  end)
  return r
end

--- The header line of the hunk of a file in the review buffer.
local function goto_hunk(r, path)
  for _, file in ipairs(r.proposal.files) do
    if file.path == path then
      local id = file.hunks[1].id
      for line, hid in pairs(r.headers) do
        if hid == id then
          vim.api.nvim_win_set_cursor(0, { line, 0 })
          return id
        end
      end
    end
  end
  T.fail('no hunk for ' .. path .. ' in ' .. vim.inspect(r.proposal))
end

T.run(function()
  T.setup()
  require('scopewise').setup()
  vim.o.hidden = true
  vim.o.columns = 200
  local edits = T.record_edits()
  local disk = { pricing = T.read('shop/pricing.py'), cart = T.read('shop/cart.py') }
  local cart = T.open('shop/cart.py')
  local pricing = T.open('shop/pricing.py')
  T.client(pricing)
  local tabs = #vim.api.nvim_list_tabpages()

  -- 1. accept one hunk, reject the other
  local r = refactor()
  T.eq(#r.proposal.files, 2, 'a proposal over two files')
  T.eq(#edits, 0, 'nothing applied before the review')
  T.eq(T.text(pricing), disk.pricing, 'pricing.py untouched while reviewing')
  T.eq(#vim.fn.getqflist(), 2, 'the changed files in the quickfix list')
  goto_hunk(r, 'shop/cart.py')
  press('r')
  goto_hunk(r, 'shop/pricing.py')
  press('a')
  T.wait_text(pricing, T.replace(disk.pricing, PRICING_OLD, PRICING_NEW), 'pricing.py: accepted')
  T.wait('the applied message', function()
    return noted('applied to shop/pricing.py (1 of 2 hunks)') ~= nil
  end)
  T.eq(T.text(cart), disk.cart, 'cart.py: rejected, byte-identical')
  T.eq(vim.tbl_filter(function(m)
    return m.message:find('applied', 1, true) ~= nil
  end, T.messages), {}, 'one message: the server\'s own word on the apply held back')
  T.eq(#edits, 1, 'one workspace/applyEdit')
  T.eq(#edits[1].edit.documentChanges, 1, 'the edit touches pricing.py only')
  T.eq(#vim.api.nvim_list_tabpages(), tabs, 'the review tab closed')
  vim.cmd('silent wall')
  T.eq(T.read('shop/cart.py'), disk.cart, 'cart.py on disk, byte-identical')

  -- 2. reject all (the text as on disk first: the scripted edit needs its old line)
  vim.api.nvim_buf_set_lines(pricing, 0, -1, false, vim.split(disk.pricing:sub(1, -2), '\n', { plain = true }))
  vim.cmd('silent wall')
  r = refactor()
  press('R')
  T.wait('the review to close', function()
    return require('scopewise.review').current() == nil
  end)
  vim.wait(300)
  T.eq(#edits, 1, 'no edit after reject all')
  T.eq(T.text(pricing), disk.pricing, 'pricing.py after reject all')
  T.eq(T.text(cart), disk.cart, 'cart.py after reject all')
  vim.cmd('silent wall')
  T.eq(T.read('shop/cart.py'), disk.cart, 'cart.py on disk after reject all, byte-identical')
  T.eq(T.read('shop/pricing.py'), disk.pricing, 'pricing.py on disk after reject all')

  -- 3. accept all across both files; one :Scopewise revert takes it all back
  r = refactor()
  press('A')
  T.wait_text(cart, T.replace(disk.cart, CART_OLD, CART_NEW), 'cart.py: accepted all')
  T.wait_text(pricing, T.replace(disk.pricing, PRICING_OLD, PRICING_NEW), 'pricing.py: accepted all')
  T.eq(#edits, 2, 'one more workspace/applyEdit')
  T.eq(#edits[2].edit.documentChanges, 2, 'one edit over both files')
  T.wait('the applied message', function()
    return noted('(2 of 2 hunks)') ~= nil
  end)
  vim.cmd('Scopewise revert')
  T.eq(T.text(pricing), disk.pricing, 'pricing.py after :Scopewise revert')
  T.eq(T.text(cart), disk.cart, 'cart.py after :Scopewise revert')
  T.ok(noted('reverted shop/pricing.py, shop/cart.py') or noted('reverted shop/cart.py, shop/pricing.py'),
    'the revert names both files')
end)
