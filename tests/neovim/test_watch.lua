-- A file written outside Neovim (never opened in it) gains 3 new callers of apply_discount:
-- without :Scopewise reindex, the menu's rename entry for that function counts the new sites.
-- Neovim on Linux offers no file watching, so the server watches the workspace itself;
-- :checkhealth scopewise says which watcher is in use (SCOPEWISE_TEST_WATCH: watchfiles or
-- polling).
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local CALLERS = [[
from shop.pricing import apply_discount, Price


def one(p: Price) -> Price:
    return apply_discount(p, 0.1)


def two(p: Price) -> Price:
    return apply_discount(p, 0.2)


def three(p: Price) -> Price:
    return apply_discount(p, 0.3)
]]

--- The rename entry of the refactor menu for apply_discount (lines 29-32): its title and the
--- whole reason the server gives for its tier.
local function rename_entry(buf)
  for _, a in ipairs(T.actions(buf, 29, 32, T.refactors)) do
    if T.titled('Refactor: improve names')(a) then
      return a.title, a.data.reason
    end
  end
  T.fail('no "Refactor: improve names" entry')
end

local function health_text()
  vim.cmd('checkhealth scopewise')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  return text
end

T.run(function()
  T.setup()
  vim.lsp.enable('scopewise')
  local buf = T.open('shop/pricing.py')
  local client = T.client(buf)
  local offered = vim.tbl_get(client.capabilities, 'workspace', 'didChangeWatchedFiles',
    'dynamicRegistration')
  T.ok(not offered, 'this Neovim offers no file watching (the case the server covers)')

  local how = vim.env.SCOPEWISE_TEST_WATCH
  local said = {
    watchfiles = 'OK files changed outside Neovim: Neovim does not watch files here; the server '
      .. 'watches the workspace itself (watchfiles)',
    polling = 'WARNING files changed outside Neovim: the server polls the workspace every 2 s',
  }
  local text = health_text()
  T.ok(text:find(said[how], 1, true), ':checkhealth says ' .. said[how] .. '\n' .. text)

  local title, reason = rename_entry(buf)
  T.log('before:', title, '|', reason)
  T.ok(reason:find('interface used at 7 sites', 1, true), 'before: ' .. reason)

  -- written outside Neovim: another process, not a buffer
  local path = T.path('shop/callers.py')
  local res = vim.system({ 'sh', '-c', 'cat > "$1"', 'sh', path }, { stdin = CALLERS }):wait()
  T.eq(res.code, 0, 'writing shop/callers.py outside Neovim')
  T.ok(vim.fn.bufnr(path) == -1, 'shop/callers.py is not a buffer')

  local t0 = vim.uv.hrtime()
  T.wait('the menu to count the new callers', function()
    title, reason = rename_entry(buf)
    return not reason:find('at 7 sites', 1, true)
  end, 20000)
  T.log(('after %.0f ms:'):format((vim.uv.hrtime() - t0) / 1e6), title, '|', reason)
  T.ok(reason:find('interface used at 11 sites in 4 files', 1, true), 'after: ' .. reason)
  local short = vim.split(title, ' · ', { plain = true })[2]
  T.ok(reason:find(short:match(': (.+)$'), 1, true), 'the title shows the reason: ' .. title)
end)
