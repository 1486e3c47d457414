-- :checkhealth scopewise, before the server runs (no API key) and once it runs (started the
-- Neovim 0.10 way, require('scopewise').start()); the key's value is never shown. :help works.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

local function checkhealth()
  vim.cmd('checkhealth scopewise')
  local text = table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n')
  vim.cmd('bwipeout!')
  T.log('--- checkhealth\n' .. text)
  T.ok(text:find('scopewise: server', 1, true), 'the report has its sections')
  T.ok(not text:find('ERROR'), 'no error in the report')
  T.ok(not text:find(vim.env.SCOPEWISE_TEST_KEY, 1, true), 'the API key is never shown')
  return text
end

local function has(text, needle)
  T.ok(text:find(needle, 1, true), 'the report says: ' .. needle)
end

T.run(function()
  T.setup()
  local key = vim.env.ANTHROPIC_API_KEY
  T.eq(key, vim.env.SCOPEWISE_TEST_KEY, 'the key in the environment')
  local workspace = vim.uv.fs_realpath(T.workspace)
  local version = vim.trim(vim.fn.system({ 'scopewise', '--version' }))
  T.ok(version:match('^scopewise %d'), 'scopewise --version: ' .. version)

  -- 1. no server running, no key
  vim.env.ANTHROPIC_API_KEY = nil
  local text = checkhealth()
  has(text, 'OK Neovim 0.')
  has(text, 'OK server: ' .. version)
  has(text, 'OK Python 3.')
  has(text, 'WARNING no API key')
  has(text, 'the server is not running')
  has(text, 'index cache for ' .. workspace .. ': not built yet')
  has(text, 'OK cache folder: ' .. vim.env.SCOPEWISE_CACHE_DIR .. ' (0 explanations)')

  -- overrides of the config: a list replaces the list, tables merge
  local merged = require('scopewise').lsp_config({
    filetypes = { 'python' },
    settings = { scopewise = { contextBudget = 8000 } },
  })
  T.eq(merged.filetypes, { 'python' }, 'filetypes overridden')
  T.eq(merged.settings, { scopewise = { contextBudget = 8000 } }, 'settings overridden')
  T.eq(merged.cmd, { 'scopewise', 'serve' }, 'cmd kept')
  T.ok(merged.handlers['window/showDocument'] and merged.capabilities.workspace, 'the rest kept')

  -- 2. started with vim.lsp.start (what setup() does on Neovim 0.10), the key set
  vim.env.ANTHROPIC_API_KEY = key
  local buf = T.open('shop/pricing.py')
  local id = require('scopewise').start(buf)
  T.ok(id, 'require("scopewise").start() started a client')
  local client = T.client(buf)
  T.eq(client.id, id, 'the client attached to the buffer')
  T.eq(vim.uv.fs_realpath(client.root_dir), workspace, 'root_dir')
  T.eq(require('scopewise').start(buf), id, 'start() again reuses the client')
  local actions = T.actions(buf, 29, 32)
  T.ok(#actions == 3, 'the short menu through the vim.lsp.start client: ' .. #actions)

  text = checkhealth()
  has(text, 'OK ANTHROPIC_API_KEY is set (in the environment)')
  local line = 'OK client %d running: root %s, 1 buffer(s), positions in utf-8'
  has(text, line:format(id, workspace))
  has(text, 'OK index: Indexed 15 files')
  has(text, 'Neovim does not watch files here; the server watches the workspace itself (watchfiles)')
  has(text, 'OK index cache for ' .. workspace .. ': 15 files, updated ')
  has(text, 'OK state folder (cost ledger): ' .. vim.env.SCOPEWISE_STATE_DIR)

  -- 3. :help scopewise with the plugin as installed (its doc/tags ships with it)
  for _, tag in ipairs({ 'scopewise', 'scopewise-setup', ':Scopewise', 'scopewise.setup()',
    'scopewise-health', ':Scopewise-refactor', 'scopewise-progress' }) do
    vim.cmd('help ' .. tag)
    T.eq(vim.bo.filetype, 'help', ':help ' .. tag)
    local name = vim.api.nvim_buf_get_name(0)
    T.ok(name:match('scopewise%.txt$'), ':help ' .. tag .. ' opened ' .. name)
    vim.cmd('helpclose')
  end
end)
