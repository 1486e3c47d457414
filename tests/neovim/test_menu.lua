-- The code-action menu as Neovim shows it: every action names its tier and its estimated
-- tokens and cost, with a sibling forced to the other end of the scale; listing is fast.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local TIERS = { quick = true, standard = true, deep = true }

--- "Refactor: simplify · standard · ~1.0k tok · <$0.01 (deep)" -> parts, or fail
local function parse(title)
  local parts = vim.split(title, ' · ', { plain = true })
  T.ok(#parts == 4, 'a title with 4 parts (name · tier · tokens · cost): ' .. title)
  local name, way, tokens, cost = unpack(parts)
  -- "deep", or a deep edit's way: "deep plan + quick write", "deep advisor + standard write"
  local tier = way:match('^(%a+)$') or way:match('^(deep) plan %+ %a+ write$')
    or way:match('^(deep) advisor %+ %a+ write$')
  T.ok(TIERS[tier], 'a tier in ' .. title)
  T.ok(tokens:match('^~[%d.,]+k? tok$'), 'estimated tokens in ' .. title)
  local usd, forced = cost:match('^([<~]%$%d+%.%d+)(.*)$')
  T.ok(usd, 'estimated dollars in ' .. title)
  T.ok(forced == '' or forced == ' (quick)' or forced == ' (deep)', 'suffix of ' .. title)
  return { name = name, tier = tier, forced = forced:match('%((%a+)%)') }
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

  local by_name = {}
  for _, a in ipairs(actions) do
    local p = parse(a.title)
    T.ok(a.command == nil or a.command.command == 'scopewise.run', 'command of ' .. a.title)
    T.ok(type(a.data) == 'table' and a.data.startLine == 29, 'data of ' .. a.title)
    by_name[p.name] = by_name[p.name] or {}
    table.insert(by_name[p.name], { action = a, parsed = p })
  end

  local want = { 'Explain' }
  for _, intent in ipairs(require('scopewise').intents) do
    table.insert(want, 'Refactor: ' .. intent)
  end
  local names = vim.tbl_keys(by_name)
  table.sort(names)
  local sorted_want = vim.deepcopy(want)
  table.sort(sorted_want)
  T.eq(names, sorted_want, 'actions listed for a valid function (no Fix without a problem)')

  for name, entries in pairs(by_name) do
    T.eq(#entries, 2, 'entries for ' .. name)
    local auto, sibling = entries[1].parsed, entries[2].parsed
    T.ok(auto.forced == nil, name .. ': the first one is on the sliding scale')
    local other = auto.tier == 'deep' and 'quick' or 'deep'
    T.eq(sibling.forced, other, name .. ': the sibling forces the other end')
    T.eq(sibling.tier, other, name .. ': the sibling title shows that tier')
    local kind = name == 'Explain' and 'source.scopewise.explain' or 'refactor.rewrite'
    T.eq(entries[1].action.kind, kind, 'kind of ' .. name)
    local reason = entries[1].action.data.reason
    T.ok(reason:find(auto.tier, 1, true), name .. ': the reason names the tier: ' .. reason)
  end
  -- the scope shows: explaining these 4 lines is cheap, and so is simplifying them (a body
  -- behind its interface); renaming a function that shop/cart.py uses is not the smallest tier
  T.eq(by_name['Explain'][1].parsed.tier, 'quick', 'explain tier')
  T.eq(by_name['Refactor: simplify'][1].parsed.tier, 'quick', 'simplify a short body')
  T.ok(by_name['Refactor: improve names'][1].parsed.tier ~= 'quick', 'rename a used function')

  -- context.only is honoured
  local only = T.actions(buf, 29, 32, { only = { 'refactor' } })
  T.eq(#only, 10, 'refactor actions only')
  for _, a in ipairs(only) do
    T.eq(a.kind, 'refactor.rewrite', 'kind with only=refactor')
  end

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
