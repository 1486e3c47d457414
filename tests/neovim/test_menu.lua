-- The code-action menu as Neovim shows it: short (Explain, Refactor…, Fix only when there is
-- something to fix, one other-tier entry), every entry naming its tier, why, and its estimated
-- cost; the intents with `only = {'refactor'}`; listing is fast.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local TIERS = { quick = true, standard = true, deep = true }

--- "Refactor… · standard: a contained change · <$0.01" -> parts; a sibling forced to the
--- other end: "Explain · deep instead of quick · ~$0.02"
local function parse(title)
  local parts = vim.split(title, ' · ', { plain = true })
  T.ok(#parts == 3, 'a title with 3 parts (name · tier: why · cost): ' .. title)
  local name, tiers, cost = unpack(parts)
  local way, why = tiers:match('^([^:]+): (.+)$')
  local forced_way, instead = tiers:match('^(.+) instead of (%a+)$')
  -- "deep", or a deep edit's way: "deep plan + quick write", "deep advisor + standard write"
  local function tier_of(w)
    return w and (w:match('^(%a+)$') or w:match('^(deep) plan %+ %a+ write$')
      or w:match('^(deep) advisor %+ %a+ write$'))
  end
  local tier, forced = tier_of(way), tier_of(forced_way)
  T.ok((tier and TIERS[tier]) or (forced and TIERS[forced]), 'a tier in ' .. title)
  T.ok(cost:match('^[<~]%$%d+%.%d+$'), 'estimated dollars in ' .. title)
  T.ok(not title:match('%((%a+)%)$'), 'the tier said once: ' .. title)
  return { name = name, tier = tier or forced, why = why, forced = forced, instead = instead }
end

T.run(function()
  T.setup()
  vim.lsp.enable('scopewise')
  local buf = T.open('shop/pricing.py')
  T.client(buf)

  local t0 = vim.uv.hrtime()
  local actions = T.actions(buf, 29, 32)
  local ms = (vim.uv.hrtime() - t0) / 1e6
  T.log(('listed %d actions in %.0f ms'):format(#actions, ms))
  T.ok(ms < 3000, ('listing took %.0f ms'):format(ms))
  for _, a in ipairs(actions) do
    T.log('  ' .. a.kind .. '  ' .. a.title)
  end

  -- a short menu: Explain, Refactor… (the intents asked next), Explain's other tier; no Fix
  -- without a problem; each title says why its tier
  T.ok(#actions <= 6, 'at most 6 entries: ' .. #actions)
  local parsed = vim.tbl_map(function(a)
    return parse(a.title)
  end, actions)
  T.eq(vim.tbl_map(function(p)
    return p.name
  end, parsed), { 'Explain', 'Refactor…', 'Explain' }, 'the entries')
  T.eq(parsed[1].tier, 'quick', 'explaining these 4 lines is cheap')
  T.ok(parsed[1].why == 'a short read', 'the reason in the title: ' .. actions[1].title)
  T.eq({ parsed[3].forced, parsed[3].instead }, { 'deep', 'quick' }, 'the other tier')
  local resolved = vim.lsp.buf_request_sync(buf, 'codeAction/resolve', actions[2], 5000)
  local refactor = assert(resolved and select(2, next(resolved)).result, 'resolve Refactor…')
  T.eq(refactor.command.command, 'scopewise.chooseIntent', 'Refactor… asks which change')
  for _, a in ipairs(actions) do
    T.ok(type(a.data) == 'table' and a.data.startLine == 29, 'data of ' .. a.title)
    T.ok(a.data.reason:find(parse(a.title).tier, 1, true), 'the whole reason: ' .. a.data.reason)
  end

  -- context.only is honoured
  local only = T.actions(buf, 29, 32, { only = { 'refactor' } })
  T.eq(#only, 10, 'refactor actions only: each intent and its other tier')
  local by_name = {}
  for _, a in ipairs(only) do
    T.eq(a.kind, 'refactor.rewrite', 'kind with only=refactor')
    local p = parse(a.title)
    by_name[p.name] = by_name[p.name] or p
  end
  -- simplifying these lines is cheap (a body behind its interface); renaming a function
  -- that shop/cart.py uses is not the smallest tier
  T.eq(by_name['Refactor: simplify'].tier, 'quick', 'simplify a short body')
  T.ok(by_name['Refactor: improve names'].tier ~= 'quick', 'rename a used function')

  -- the menu the user sees (vim.ui.select through the stock code_action)
  local shown
  vim.ui.select = function(items, opts, on_choice)
    shown = vim.tbl_map(opts.format_item, items)
    on_choice(nil)
  end
  vim.lsp.buf.code_action({ range = { start = { 29, 0 }, ['end'] = { 32, 0 } } })
  T.wait('the code-action menu', function()
    return shown ~= nil
  end)
  T.eq(shown, T.titles(actions), 'menu items')

  -- with the cursor inside the function and nothing selected, the menu is for the whole
  -- function (the server widens an empty range to the definition around it)
  vim.api.nvim_win_set_cursor(0, { 31, 4 })
  shown = nil
  vim.lsp.buf.code_action()
  T.wait('the code-action menu at the cursor', function()
    return shown ~= nil
  end)
  T.eq(shown, T.titles(actions), 'menu items at the cursor')
end)
