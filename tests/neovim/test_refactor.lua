-- Refactor through the stock vim.lsp.buf.code_action({apply = true, filter = ...}): the
-- buffer (with an unsaved, multi-byte change above the range) becomes exactly the expected
-- text, through one versioned workspace/applyEdit; the file on disk is left alone.
-- Reply queued by test_neovim.py: an edit of `rate = clamp(...)` in shop/pricing.py.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

T.run(function()
  T.setup()
  local edits = T.record_edits()
  vim.lsp.enable('scopewise')

  local disk = T.read('shop/pricing.py')
  local buf = T.open('shop/pricing.py')
  T.client(buf)
  -- an unsaved change with multi-byte characters before the range
  vim.api.nvim_buf_set_lines(buf, 0, 1, false, { '"""Prices — and discounts 💶."""' })
  vim.o.undolevels = vim.o.undolevels -- ends the undo block, as leaving insert mode would
  local before = T.text(buf)
  local expected = T.replace(
    before,
    '    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n',
    '    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # café ☕ capped\n'
  )
  local version = vim.lsp.util.buf_versions[buf]

  T.code_action(29, 32, T.titled('Refactor: simplify'), T.refactors)
  local review = T.accept()
  T.ok(tostring(review.proposal.summary):find('documented the cap', 1, true),
    'the summary in the proposal: ' .. vim.inspect(review.proposal))
  T.wait_text(buf, expected, 'refactor')
  T.wait_message('applied to shop/pricing.py')

  T.eq(#edits, 1, 'workspace/applyEdit requests')
  local changes = edits[1].edit.documentChanges
  T.ok(changes and #changes == 1, 'one TextDocumentEdit: ' .. vim.inspect(edits[1].edit))
  T.eq(changes[1].textDocument.uri, vim.uri_from_bufnr(buf), 'edited document')
  T.eq(changes[1].textDocument.version, version, 'the edit is for the version the buffer had')
  T.eq(T.read('shop/pricing.py'), disk, 'the file on disk (the edit is left unsaved)')

  -- one undo takes the whole refactor back
  vim.cmd('silent undo')
  T.eq(T.text(buf), before, 'the buffer after one undo')
end)
