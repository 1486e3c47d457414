-- Fix: on a linter's diagnostic passed through the stock code_action; on a diagnostic that
-- :Scopewise fix collects from vim.diagnostic itself; on a syntax error with no diagnostic at
-- all. Replies queued by test_neovim.py, in this order: round() on line 32, min/max in clamp,
-- the missing parenthesis in with_tax.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

T.run(function()
  T.setup()
  vim.lsp.enable('scopewise')
  local buf = T.open('shop/pricing.py')
  T.client(buf)
  local linter = vim.api.nvim_create_namespace('a-linter')

  -- 1. the stock code_action, the diagnostic passed in its context
  local diagnostic = {
    range = { start = { line = 31, character = 11 }, ['end'] = { line = 31, character = 63 } },
    message = 'Price.cents is an int: round the discounted amount',
    severity = vim.lsp.protocol.DiagnosticSeverity.Error,
    source = 'a-linter',
  }
  local listed = T.actions(buf, 32, 32, { only = { 'quickfix' }, diagnostics = { diagnostic } })
  T.ok(#listed == 2, 'Fix and its forced sibling: ' .. vim.inspect(T.titles(listed)))
  T.ok(vim.startswith(listed[1].title, 'Fix · '), 'title: ' .. listed[1].title)
  T.eq(listed[1].kind, 'quickfix', 'kind')
  T.eq(listed[1].diagnostics and listed[1].diagnostics[1].message, diagnostic.message, 'fixes')
  local expected = T.replace(
    T.text(buf),
    'return Price(int(price.cents * (1 - rate)), price.currency)',
    'return Price(round(price.cents * (1 - rate)), price.currency)'
  )
  vim.api.nvim_win_set_cursor(0, { 32, 11 })
  vim.lsp.buf.code_action({
    apply = true,
    context = { only = { 'quickfix' }, diagnostics = { diagnostic } },
    filter = T.titled('Fix'),
  })
  T.accept()
  T.wait_text(buf, expected, 'fix of a diagnostic through vim.lsp.buf.code_action')
  T.wait_message('Fix applied to shop/pricing.py')

  -- 2. :Scopewise fix on the cursor line takes the linter's diagnostics from vim.diagnostic
  vim.diagnostic.set(linter, buf, {
    {
      lnum = 25,
      col = 4,
      end_col = 37,
      message = 'clamp: returns low when low > high',
      severity = vim.diagnostic.severity.WARN,
      source = 'a-linter',
    },
  })
  expected = T.replace(
    T.text(buf),
    'return max(low, min(high, value))',
    'return min(max(value, low), high)'
  )
  vim.api.nvim_win_set_cursor(0, { 26, 0 })
  vim.cmd('Scopewise fix')
  T.accept()
  T.wait_text(buf, expected, ':Scopewise fix')
  vim.diagnostic.reset(linter, buf)

  -- 3. a syntax error and no diagnostic: the server offers Fix by itself
  local broken = T.replace(
    T.text(buf),
    'return Price(round(self.cents * (1 + TAX_RATE)), self.currency)',
    'return Price(round(self.cents * (1 + TAX_RATE), self.currency)'
  )
  local fixed = T.text(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, vim.split(broken, '\n', { trimempty = true }))
  T.eq(T.text(buf), broken, 'the broken buffer')
  vim.api.nvim_win_set_cursor(0, { 19, 8 })
  vim.lsp.buf.code_action({ apply = true, filter = T.titled('Fix') })
  T.accept()
  T.wait_text(buf, fixed, 'fix of a syntax error')

  -- nothing to fix: said so, nothing sent
  vim.api.nvim_win_set_cursor(0, { 8, 0 })
  vim.cmd('Scopewise fix')
  T.wait('a notification that there is nothing to fix', function()
    for _, n in ipairs(T.notes) do
      if n.msg:find('nothing to fix here', 1, true) then
        return true
      end
    end
    return false
  end)
end)
