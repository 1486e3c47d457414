-- The review UI against an in-process fake server named `scopewise` (no Python, no API): it
-- checks the `review` capability, sends a two-file proposal, applies the accepted hunks as
-- the protocol says (one versioned workspace/applyEdit, refusing hunk 3 as changed since),
-- and records discards. Accept one hunk, reject one, the third is refused: one notification;
-- :Scopewise revert takes the edit back; a second proposal rejected whole changes nothing.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local server = { capabilities = nil, commands = {}, edits = {}, dispatchers = nil, proposals = {} }

local function fake(dispatchers)
  server.dispatchers = dispatchers
  local closing = false
  local id = 0
  local srv = {}
  function srv.request(method, params, callback)
    id = id + 1
    local rid = id
    if method == 'initialize' then
      server.capabilities = params.capabilities
      callback(nil, { capabilities = { executeCommandProvider = { commands = {
        'scopewise.applyProposal', 'scopewise.discardProposal' } } } })
    elseif method == 'workspace/executeCommand' then
      table.insert(server.commands, { command = params.command, arg = params.arguments[1] })
      if params.command == 'scopewise.applyProposal' then
        local arg = params.arguments[1]
        local p = server.proposals[arg.id]
        local changes, applied, refused, files = {}, {}, {}, {}
        for _, file in ipairs(p.files) do
          local edits = {}
          for _, h in ipairs(file.hunks) do
            if vim.tbl_contains(arg.hunks, h.id) then
              if h.id == 3 then
                table.insert(refused, { hunk = 3, reason = 'line 24 changed since' })
              else
                table.insert(applied, h.id)
                table.insert(edits, {
                  range = { start = { line = h.start - 1, character = 0 },
                    ['end'] = { line = h.start - 1 + #h.old_lines, character = 0 } },
                  newText = table.concat(h.new_lines, '\n') .. '\n',
                })
              end
            end
          end
          if #edits > 0 then
            local buf = vim.fn.bufnr(vim.uri_to_fname(file.uri))
            table.insert(files, file.path)
            table.insert(changes, { textDocument = { uri = file.uri,
              version = buf ~= -1 and vim.lsp.util.buf_versions[buf] or vim.NIL }, edits = edits })
          end
        end
        vim.schedule(function()
          local edit = { label = p.title, edit = { documentChanges = changes } }
          table.insert(server.edits, edit)
          dispatchers.server_request('workspace/applyEdit', edit)
          callback(nil, { applied = applied, refused = refused, files = files })
        end)
      else
        callback(nil, vim.NIL)
      end
    else
      callback(nil, vim.NIL)
    end
    return true, rid
  end
  function srv.notify(method)
    if method == 'exit' then
      closing = true
    end
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

local function noted(needle)
  local found = {}
  for _, n in ipairs(T.notes) do
    if n.msg:find(needle, 1, true) then
      table.insert(found, n)
    end
  end
  return found
end

local function press(keys)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(keys, true, false, true), 'x', false)
end

local function proposal(id)
  local pricing, cart = T.path('shop/pricing.py'), T.path('shop/cart.py')
  local p = {
    id = id,
    title = 'Refactor: 3 changes in 2 files (quick, $0.01)',
    label = 'Refactor',
    summary = 'documented the cap\nand renamed',
    files = {
      { path = 'shop/pricing.py', uri = vim.uri_from_fname(pricing), version = vim.NIL, hunks = {
        { id = 1, start = 31, old_lines = { '    rate = clamp(rate, 0.0, MAX_DISCOUNT)' },
          new_lines = { '    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped' } },
      } },
      { path = 'shop/cart.py', uri = vim.uri_from_fname(cart), version = vim.NIL, hunks = {
        { id = 2, start = 18, old_lines = { '        return apply_discount(Price(cents), self.discount)' },
          new_lines = { '        return apply_discount(Price(cents), rate=self.discount)' } },
        { id = 3, start = 24, old_lines = { '        return apply_discount(base, 0.1)' },
          new_lines = { '        return apply_discount(base, rate=0.1)' } },
      } },
    },
    leftovers = { 'shop/cart.py:24 not verified\r\nby the model' }, -- data: one line
    tests = {},
  }
  server.proposals[id] = p
  return p
end

T.run(function()
  T.setup()
  vim.g.mapleader = ','
  require('scopewise').setup({ enable = false, keymaps = { fix = false }, review_keys = { close = 'Q', apply = false } })
  T.ok(vim.fn.maparg(',se', 'n'):find('Scopewise explain', 1, true), 'keymaps: ,se in normal mode')
  T.ok(vim.fn.maparg(',sr', 'x'):find('Scopewise refactor', 1, true), 'keymaps: ,sr in visual mode')
  T.eq(vim.fn.maparg(',sf', 'n'), '', 'keymaps: fix = false maps nothing')
  vim.lsp.config('scopewise', { cmd = fake })
  vim.lsp.enable('scopewise')
  vim.o.hidden = true
  vim.o.columns = 160
  local before = { pricing = T.read('shop/pricing.py'), cart = T.read('shop/cart.py') }
  local cart = T.open('shop/cart.py') -- loaded, hidden
  local buf = T.open('shop/pricing.py')
  local client
  T.wait('the fake server', function()
    client = vim.lsp.get_clients({ bufnr = buf, name = 'scopewise' })[1]
    return client ~= nil and client.initialized
  end)
  T.eq(server.capabilities.experimental.scopewise.review, true, 'the review capability')
  local tabs = #vim.api.nvim_list_tabpages()

  -- a proposal opens one review buffer (a diff, in a tab) and fills the quickfix list
  server.dispatchers.notification('scopewise/proposal', proposal('p1'))
  local review
  T.wait('the review buffer', function()
    review = require('scopewise.review').current()
    return review ~= nil
  end)
  T.eq(#vim.api.nvim_list_tabpages(), tabs + 1, 'the review opens in a tab')
  T.eq(vim.bo.filetype, 'diff', 'the review buffer is a diff')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  for _, want in ipairs({ '+++ b/shop/cart.py', '@@ -31,1 +31,1 @@ hunk 1 [pending]',
    '+    rate = clamp(rate, 0.0, MAX_DISCOUNT)  # capped', '# and renamed',
    '# left over: shop/cart.py:24 not verified  by the model' }) do
    T.ok(text:find(want, 1, true), 'the review shows ' .. want .. ':\n' .. text)
  end
  T.ok(vim.api.nvim_get_current_line():find('hunk 1', 1, true), 'the cursor starts on hunk 1')
  T.eq(vim.fn.maparg('Q', 'n', false, true).desc, 'scopewise review: close', 'review_keys: Q closes')
  T.eq(vim.fn.maparg('q', 'n'), '', 'review_keys: q no longer closes')
  local qf = vim.fn.getqflist({ title = 1, items = 1 })
  T.eq(#qf.items, 3, 'one quickfix entry per hunk')
  T.eq(vim.fn.bufname(qf.items[2].bufnr), T.path('shop/cart.py'), 'the second entry\'s file')
  T.eq(qf.items[2].lnum, 18, 'the second entry\'s line')

  -- <CR> opens the hunk's file at its line above the review, which stays open
  local review_win = vim.api.nvim_get_current_win()
  press('<CR>')
  T.eq(vim.api.nvim_buf_get_name(0), T.path('shop/pricing.py'), '<CR> opens the hunk\'s file')
  T.eq(vim.api.nvim_win_get_cursor(0)[1], 31, '<CR> goes to the hunk\'s line')
  T.ok(vim.api.nvim_buf_is_valid(review.bufnr), 'the review stays open')
  vim.api.nvim_set_current_win(review_win)

  -- accept hunk 1 (the cursor moves on to hunk 2), reject hunk 2, [h back and ]h on, accept 3
  press('a')
  T.ok(vim.api.nvim_get_current_line():find('hunk 2 [pending]', 1, true), 'on to hunk 2')
  press('r')
  press('[h')
  T.ok(vim.api.nvim_get_current_line():find('hunk 2 [rejected]', 1, true), '[h: ' .. vim.api.nvim_get_current_line())
  press('[h')
  T.ok(vim.api.nvim_get_current_line():find('hunk 1 [accepted]', 1, true), '[h: ' .. vim.api.nvim_get_current_line())
  press(']h]h')
  T.ok(vim.api.nvim_get_current_line():find('hunk 3 [pending]', 1, true), ']h: ' .. vim.api.nvim_get_current_line())
  T.eq(#server.edits, 0, 'nothing applied while hunks are undecided')
  press('a') -- the last decision applies
  T.wait('the apply answer', function()
    return #noted('applied 1 of 3 hunks') > 0
  end)
  local apply = server.commands[#server.commands]
  T.eq(apply.command, 'scopewise.applyProposal', 'the command')
  T.eq(apply.arg, { id = 'p1', hunks = { 1, 3 } }, 'the accepted hunks')
  T.eq(#server.edits, 1, 'one workspace/applyEdit')
  local note = noted('applied 1 of 3 hunks')
  T.eq(#note, 1, 'one notification')
  T.ok(note[1].msg:find('refused hunk 3: line 24 changed since', 1, true), note[1].msg)
  T.ok(not note[1].msg:find('\n'), 'one line (no hit-enter)')
  T.eq(note[1].level, vim.log.levels.WARN, 'a refusal warns')
  T.eq(#vim.api.nvim_list_tabpages(), tabs, 'the review tab closed')
  T.eq(T.text(buf), T.replace(before.pricing, 'MAX_DISCOUNT)\n', 'MAX_DISCOUNT)  # capped\n'), 'pricing.py: hunk 1')
  T.eq(T.text(cart), before.cart, 'cart.py: hunk 2 rejected, hunk 3 refused')

  -- one :Scopewise revert takes the applied edit back
  vim.cmd('Scopewise revert')
  T.eq(T.text(buf), before.pricing, 'pricing.py after :Scopewise revert')
  T.ok(#noted('reverted shop/pricing.py') == 1, 'the revert is said')

  -- a second proposal rejected whole: discarded, nothing changes
  server.dispatchers.notification('scopewise/proposal', proposal('p2'))
  T.wait('the second review', function()
    return require('scopewise.review').current() ~= nil
  end)
  press('R')
  T.wait('the discard', function()
    return server.commands[#server.commands].command == 'scopewise.discardProposal'
  end)
  T.eq(server.commands[#server.commands].arg, { id = 'p2' }, 'the discarded proposal')
  T.eq(#server.edits, 1, 'no edit for a rejected proposal')
  T.eq(T.text(buf), before.pricing, 'pricing.py unchanged')
  T.eq(T.text(cart), before.cart, 'cart.py unchanged')
  T.eq(#vim.api.nvim_list_tabpages(), tabs, 'the review tab closed')
end)
