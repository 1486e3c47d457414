-- A refactor across files: a rename in shop/pricing.py (open, current), shop/cart.py (open in
-- a hidden buffer) and shop/__init__.py (not open) arrives as one workspace/applyEdit; every
-- buffer gets exactly its new text, unsaved until :wall.
-- Reply queued by test_neovim.py: the rename of apply_discount to discounted.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local function rename(text)
  return (text:gsub('apply_discount', 'discounted'))
end

T.run(function()
  T.setup()
  vim.o.columns = 200 -- the applied message names every file
  local edits = T.record_edits()
  vim.lsp.enable('scopewise')

  local files = { 'shop/pricing.py', 'shop/cart.py', 'shop/__init__.py' }
  local want = {}
  for _, rel in ipairs(files) do
    want[rel] = rename(T.read(rel))
    T.ok(want[rel] ~= T.read(rel), rel .. ' uses apply_discount')
  end
  local cart = T.open('shop/cart.py')
  local pricing = T.open('shop/pricing.py') -- cart.py stays loaded, hidden
  vim.o.hidden = true
  T.client(pricing)
  T.ok(vim.fn.bufnr(T.path('shop/__init__.py')) == -1, '__init__.py is not open')

  T.code_action(29, 32, T.titled('Refactor: improve names'), T.refactors)
  T.accept()
  T.wait_text(pricing, want['shop/pricing.py'], 'shop/pricing.py')
  T.wait_text(cart, want['shop/cart.py'], 'shop/cart.py (hidden buffer)')
  local init = vim.fn.bufnr(T.path('shop/__init__.py'))
  T.ok(init ~= -1, 'the edit opened shop/__init__.py in a buffer')
  T.wait_text(init, want['shop/__init__.py'], 'shop/__init__.py (not open before)')
  T.wait_message('applied to shop/pricing.py, shop/cart.py, shop/__init__.py')

  T.eq(#edits, 1, 'one workspace/applyEdit for the three files')
  local versions = {}
  for _, change in ipairs(edits[1].edit.documentChanges) do
    local v = change.textDocument.version
    versions[vim.fs.basename(vim.uri_to_fname(change.textDocument.uri))] = v ~= nil and v ~= vim.NIL
  end
  T.eq(versions, { ['pricing.py'] = true, ['cart.py'] = true, ['__init__.py'] = false },
    'versioned edits for the open documents')

  -- nothing on disk until the user writes
  local on_disk = T.read('shop/__init__.py')
  T.ok(on_disk:find('apply_discount', 1, true), '__init__.py on disk before :wall')
  vim.cmd('silent wall')
  for _, rel in ipairs(files) do
    T.eq(T.read(rel), want[rel], rel .. ' on disk after :wall')
  end
end)
