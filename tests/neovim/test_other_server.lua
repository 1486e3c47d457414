-- Another language server attached to the same buffer, offering code actions of the same
-- kinds and titles (refactor.rewrite "Refactor: simplify", quickfix "Fix"), does not change
-- which action :Scopewise runs: scopewise's, never the other's.
-- Reply queued by test_neovim.py: an edit of `rate = clamp(...)` in shop/pricing.py.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local other = { asked = 0, ran = {} }

local function fake()
  local closing = false
  local srv = {}
  function srv.request(method, params, callback)
    if method == 'initialize' then
      callback(nil, { capabilities = { codeActionProvider = { resolveProvider = true },
        executeCommandProvider = { commands = { 'other.run' } } } })
    elseif method == 'textDocument/codeAction' then
      other.asked = other.asked + 1
      local cmd = { title = 'x', command = 'other.run', arguments = { {} } }
      callback(nil, {
        { title = 'Refactor: simplify', kind = 'refactor.rewrite', command = cmd,
          data = { intent = 'simplify' } },
        { title = 'Explain', kind = 'source.scopewise.explain', command = cmd },
        { title = 'Fix', kind = 'quickfix', command = cmd },
      })
    elseif method == 'workspace/executeCommand' or method == 'codeAction/resolve' then
      table.insert(other.ran, method)
      callback(nil, vim.NIL)
    else
      callback(nil, vim.NIL)
    end
    return true, 1
  end
  function srv.notify(method)
    closing = closing or method == 'exit'
    return true
  end
  function srv.is_closing()
    return closing
  end
  function srv.terminate()
    closing = true
  end
  return srv
end

T.run(function()
  T.setup()
  require('scopewise').setup()
  local buf = T.open('shop/pricing.py')
  -- the other server first: its client has the lower id
  vim.lsp.start({ name = 'other', cmd = fake, root_dir = T.workspace }, { bufnr = buf })
  T.client(buf)
  T.eq(#vim.lsp.get_clients({ bufnr = buf }), 2, 'two servers attached')
  local expected = T.replace(T.text(buf), '    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n',
    '    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped\n')

  vim.cmd('29,32Scopewise refactor simplify')
  local review = require('scopewise.review')
  T.wait('the review of scopewise\'s proposal', function()
    return review.current() ~= nil
  end)
  local client = vim.lsp.get_clients({ bufnr = buf, name = 'scopewise' })[1]
  T.eq(review.current().client_id, client.id, 'the proposal came from scopewise')
  vim.api.nvim_feedkeys('A', 'x', false)
  T.wait_text(buf, expected, 'scopewise\'s refactor applied')
  T.eq(other.ran, {}, 'the other server ran nothing')
  T.eq(other.asked, 0, 'the other server was not even asked')
end)
