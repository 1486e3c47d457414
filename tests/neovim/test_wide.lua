-- A wide rename through plan/write: "Refactor: improve names" on apply_discount, which the
-- workspace's thresholds (test_neovim.py writes `thresholds.deep_files = 3`) send deep, is
-- planned by the deep tier, written by quick writers and verified; progress shows each stage;
-- ONE workspace/applyEdit carries every file — shop/pricing.py (open, current),
-- shop/cart.py (a hidden buffer), shop/__init__.py and tests/test_pricing.py (not open) —
-- versioned for the open documents, under one change annotation whose label names the plan,
-- the tiers and each step's cost. No buffer names apply_discount afterwards.
-- Neovim has no preview of an edit: the stock handler applies it as it comes (and undoes it
-- per buffer). The plugin does not advertise change annotations (Neovim does not ask for
-- confirmation); this test does, through vim.lsp.config, to see the label the server sends.
-- Model set by test_neovim.py: tests/widemodel.py's scripted planner and writers.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local OLD = '%f[%w_]apply_discount%f[^%w_]' -- the identifier, as a whole word
local FILES = { 'shop/pricing.py', 'shop/cart.py', 'shop/__init__.py', 'tests/test_pricing.py' }

local function rename(text)
  return (text:gsub(OLD, 'discounted'))
end

--- The progress lines the plugin showed contain `needle`.
local function shown(progress, needle)
  for _, line in ipairs(progress) do
    if line:find(needle, 1, true) then
      return true
    end
  end
  return false
end

T.run(function()
  T.setup()
  vim.o.columns = 200 -- the applied message names every file
  local progress = {}
  require('scopewise').setup({
    progress = function(line)
      table.insert(progress, line)
    end,
  })
  local edits = T.record_edits()
  vim.lsp.config('scopewise', {
    capabilities = {
      workspace = {
        workspaceEdit = {
          documentChanges = true,
          changeAnnotationSupport = { groupsOnLabel = true },
        },
      },
    },
  })
  vim.lsp.enable('scopewise')

  local want = {}
  for _, rel in ipairs(FILES) do
    want[rel] = rename(T.read(rel))
    T.ok(want[rel] ~= T.read(rel), rel .. ' uses apply_discount')
  end
  local cart = T.open('shop/cart.py')
  local pricing = T.open('shop/pricing.py') -- cart.py stays loaded, hidden
  vim.o.hidden = true
  T.client(pricing)
  for _, rel in ipairs({ 'shop/__init__.py', 'tests/test_pricing.py' }) do
    T.ok(vim.fn.bufnr(T.path(rel)) == -1, rel .. ' is not open')
  end
  local versions = {
    [pricing] = vim.lsp.util.buf_versions[pricing],
    [cart] = vim.lsp.util.buf_versions[cart],
  }

  -- the menu names the split: the deep tier plans, the quick tier writes
  local menu = T.actions(pricing, 29, 32, { only = { 'refactor' } })
  local entry = vim.tbl_filter(T.titled('Refactor: improve names'), menu)[1]
  T.ok(entry and entry.title:find(' · deep plan + quick write: ', 1, true),
    'a "deep plan + quick write" entry in:\n' .. table.concat(T.titles(menu), '\n'))

  T.code_action(29, 32, T.titled('Refactor: improve names'), T.refactors)
  local review = T.accept()
  local bufs = { ['shop/pricing.py'] = pricing, ['shop/cart.py'] = cart }
  for _, rel in ipairs(FILES) do
    T.wait(rel .. ' in a buffer', function()
      local n = vim.fn.bufnr(T.path(rel))
      bufs[rel] = bufs[rel] or (n ~= -1 and n or nil)
      return bufs[rel] ~= nil
    end)
    T.wait_text(bufs[rel], want[rel], rel)
  end
  T.wait_message(
    'applied to shop/__init__.py, shop/cart.py, shop/pricing.py, tests/test_pricing.py'
  )
  local said = tostring(review.proposal.title) .. '\n' .. tostring(review.proposal.summary)
  T.ok(said:find('verified: every site of the plan in 4 files', 1, true),
    'verified in the proposal: ' .. said)

  -- one workspace/applyEdit for the four files, versioned for the open ones
  T.eq(#edits, 1, 'workspace/applyEdit requests')
  local edit = edits[1].edit
  local got = {}
  for _, change in ipairs(edit.documentChanges) do
    local fname = vim.uri_to_fname(change.textDocument.uri)
    local v = change.textDocument.version
    got[vim.fs.relpath(T.workspace, fname)] =
      v ~= nil and v ~= vim.NIL and v == versions[vim.fn.bufnr(fname)]
    for _, e in ipairs(change.edits) do
      T.eq(e.annotationId, 'scopewise', 'every text edit under the annotation')
    end
  end
  T.eq(got, {
    ['shop/pricing.py'] = true,
    ['shop/cart.py'] = true,
    ['shop/__init__.py'] = false,
    ['tests/test_pricing.py'] = false,
  }, 'the files of the edit (true: versioned as the buffer was)')
  local annotation = edit.changeAnnotations and edit.changeAnnotations.scopewise
  T.ok(annotation, 'the change annotation in: ' .. vim.inspect(edit))
  T.log('label:', annotation.label)
  local label = '^scopewise refactor: improve names · deep plan %$%d+%.%d+ '
    .. '%+ quick write ×%d+ %$%d+%.%d+ · verified$'
  T.ok(annotation.label:match(label),
    'the label names the plan, the tiers and the costs: ' .. annotation.label)

  -- the stages went through $/progress to the plugin's display
  local stages = { 'planning the change (deep)…', 'writing 4 files in ', 'verifying every site…' }
  for _, stage in ipairs(stages) do
    T.ok(shown(progress, 'scopewise: ' .. stage),
      stage .. ' in the progress:\n' .. table.concat(progress, '\n'))
  end

  -- no buffer names the old function any more
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) then
      T.ok(not T.text(buf):find(OLD),
        vim.api.nvim_buf_get_name(buf) .. ' still names apply_discount')
    end
  end
end)
