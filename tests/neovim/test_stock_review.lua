-- Neovim WITHOUT the helper (only lsp/scopewise.lua on the 'runtimepath', Neovim's own
-- handlers): a refactor of two files is asked with window/showMessageRequest, which stock
-- vim.lsp shows through vim.ui.select (stubbed here, as a user picking from the list).
--   1. Discard: nothing changes, buffers and files byte-identical.
--   2. Show diff: the unified diff opens in a window, then the same question again; Apply:
--      both files change, as one workspace/applyEdit.
-- Replies queued by test_neovim.py: the same two-file edit twice.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

T.run(function()
  -- the lsp config alone, copied where nothing else of the plugin is
  local rtp = vim.fn.tempname()
  vim.fn.mkdir(rtp .. '/lsp', 'p')
  vim.fn.writefile(vim.fn.readfile(T.plugin .. '/lsp/scopewise.lua'), rtp .. '/lsp/scopewise.lua')
  vim.opt.runtimepath:prepend(rtp)
  T.ok(not pcall(require, 'scopewise'), 'the helper is not on the runtimepath')
  T.answer_questions()
  local show = vim.lsp.handlers['window/showMessage']
  vim.lsp.handlers['window/showMessage'] = function(err, params, ctx, config)
    table.insert(T.messages, { type = params.type, message = params.message })
    T.log('server message:', params.message)
    return show(err, params, ctx, config)
  end
  local edits = T.record_edits()
  vim.lsp.enable('scopewise')
  vim.o.hidden = true

  local cart = T.open('shop/cart.py')
  local pricing = T.open('shop/pricing.py')
  local disk = { pricing = T.read('shop/pricing.py'), cart = T.read('shop/cart.py') }
  local before = { pricing = T.text(pricing), cart = T.text(cart) }
  T.wait('the scopewise client to attach', function()
    local c = vim.lsp.get_clients({ bufnr = pricing, name = 'scopewise' })[1]
    return c ~= nil and c.initialized == true
  end)
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(pricing) },
    range = { start = { line = 28, character = 0 }, ['end'] = { line = 32, character = 0 } },
    context = { diagnostics = {}, only = { 'refactor' } },
  }
  T.wait('the refactor actions (the index is built)', function()
    local results = vim.lsp.buf_request_sync(pricing, 'textDocument/codeAction', params, 2000)
    for _, res in pairs(results or {}) do
      if res.result and #res.result > 0 then
        return true
      end
    end
    return false
  end, 30000)

  -- 1. Discard
  T.answers = { 'Discard' }
  T.code_action(29, 32, T.titled('Refactor: simplify'), T.refactors)
  T.wait_message('discarded; nothing changed')
  T.eq(#T.questions, 1, 'questions asked')
  local q = T.questions[1]
  T.ok(q.prompt:find('Refactor: 2 changes in 2 files (', 1, true), 'the title: ' .. q.prompt)
  T.eq(q.titles, { 'Apply', 'Show diff', 'Discard' }, 'the answers offered')
  T.eq(#edits, 0, 'workspace/applyEdit requests after Discard')
  T.eq({ pricing = T.text(pricing), cart = T.text(cart) }, before, 'the buffers after Discard')
  T.eq({ pricing = T.read('shop/pricing.py'), cart = T.read('shop/cart.py') }, disk,
    'the files after Discard')

  -- 2. Show diff, then Apply
  T.answers = { 'Show diff', 'Apply' }
  T.code_action(29, 32, T.titled('Refactor: simplify'), T.refactors)
  T.wait_message('applied to shop/pricing.py, shop/cart.py')
  T.eq(#T.questions, 3, 'asked again after the diff')
  local diff
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_get_name(b):match('%.diff$') then
      diff = b
    end
  end
  T.ok(diff, 'the diff document was opened')
  local text = table.concat(vim.fn.readfile(vim.api.nvim_buf_get_name(diff)), '\n')
  T.ok(text:find('+++ b/shop/cart.py', 1, true), 'the diff shows cart.py: ' .. text)
  T.ok(text:find('-    rate = clamp(rate, 0.0, MAX_DISCOUNT)', 1, true), 'the removed line')
  T.eq(#edits, 1, 'one workspace/applyEdit for both files')
  T.ok(T.text(pricing):find('max(0.0, min(MAX_DISCOUNT, rate))', 1, true), 'pricing.py edited')
  T.ok(T.text(cart):find('self.discount = 0.1', 1, true), 'cart.py (hidden) edited')
end)
