--- :checkhealth scopewise — the server binary and its version, the Python that runs it, the
--- API key (whether it is set, never its value), the index and the cache folder.

local M = {}

local health = vim.health

-- Run by the server's own Python: its version, scopewise's folders and each root's index
-- cache (read-only; nothing is indexed).
local PROBE = [[
import importlib.util, json, os, pathlib, sqlite3, sys
out = {"python": sys.version.split()[0], "executable": sys.executable,
       "supported": sys.version_info >= (3, 11)}
polling = os.environ.get("SCOPEWISE_WATCH") == "polling"
out["watch"] = "watchfiles" if importlib.util.find_spec("watchfiles") and not polling else "polling"
try:
    from scopewise import paths
    from scopewise.index.cache import default_path
except Exception as exc:
    out["error"] = f"{type(exc).__name__}: {exc}"
else:
    cache = paths.cache_dir()
    out["cache"] = str(cache)
    out["state"] = str(paths.state_dir())
    folder = cache / "explanations"
    out["explanations"] = len(list(folder.glob("*.md"))) if folder.is_dir() else 0
    out["roots"] = []
    for root in sys.argv[1:]:
        db = default_path(pathlib.Path(root))
        info = {"root": root, "db": str(db), "exists": db.exists()}
        if db.exists():
            info["mtime"] = int(db.stat().st_mtime)
            try:
                con = sqlite3.connect(db.as_uri() + "?mode=ro", uri=True)
                try:
                    info["files"] = con.execute("SELECT COUNT(*) FROM files").fetchone()[0]
                finally:
                    con.close()
            except sqlite3.Error as exc:
                info["error"] = str(exc)
        out["roots"].append(info)
print(json.dumps(out))
]]

local function clients()
  return vim.lsp.get_clients({ name = 'scopewise' })
end

--- The server config in effect: a running client's, else vim.lsp.config's (0.11), else this
--- plugin's lsp/scopewise.lua with setup()'s overrides.
local function server_config()
  local running = clients()[1]
  if running then
    return running.config
  end
  if vim.fn.has('nvim-0.11') == 1 then
    local ok, cfg = pcall(function()
      return vim.lsp.config.scopewise
    end)
    if ok and type(cfg) == 'table' then
      return cfg
    end
  end
  local sw = require('scopewise')
  return sw.lsp_config(sw.config.lsp)
end

local function run(cmd, env)
  local ok, obj = pcall(vim.system, cmd, { text = true, env = env })
  if not ok then
    return nil, tostring(obj)
  end
  local res = obj:wait(15000)
  if res.code ~= 0 then
    local err = vim.trim((res.stderr or '') .. (res.stdout or ''))
    return nil, err ~= '' and err or ('exit status ' .. tostring(res.code))
  end
  return vim.trim(res.stdout or '')
end

--- The interpreter a console script runs with (pip writes it in the first line, or in an
--- `exec` line under `#!/bin/sh` when the path is long).
local function python_of(exe)
  local f = io.open(exe, 'r')
  if not f then
    return nil
  end
  local first = f:read('*l') or ''
  local second = f:read('*l') or ''
  f:close()
  local shebang = first:match('^#!%s*(.-)%s*$')
  if not shebang then
    return nil
  end
  if shebang:match('^/bin/sh') then
    local exec = second:match('exec\'?%s+"([^"]+)"') or second:match("exec'?%s+(%S+)")
    return exec and exec:match('python') and exec or nil
  end
  local words = vim.split(shebang, '%s+', { trimempty = true })
  if words[1] and words[1]:match('/env$') then
    table.remove(words, 1)
    if words[1] == '-S' then
      table.remove(words, 1)
    end
    words[1] = words[1] and vim.fn.exepath(words[1]) or nil
  end
  local python = words[1]
  if python and vim.fs.basename(python):match('^python') then
    return python
  end
  return nil
end

local function workspace_roots()
  local roots, seen = {}, {}
  for _, client in ipairs(clients()) do
    local folder = client.workspace_folders and client.workspace_folders[1]
    local root = client.root_dir or (folder and vim.uri_to_fname(folder.uri))
    if root and not seen[root] then
      seen[root] = true
      table.insert(roots, root)
    end
  end
  if #roots == 0 then
    local cfg = server_config()
    local root = vim.fs.root(0, cfg.root_markers or { '.git' }) or vim.fn.getcwd()
    table.insert(roots, root)
  end
  return roots
end

local function check_neovim()
  if vim.fn.has('nvim-0.11') == 1 then
    health.ok('Neovim ' .. tostring(vim.version()) .. ': vim.lsp.enable("scopewise") works')
  elseif vim.fn.has('nvim-0.10') == 1 then
    health.warn(
      'Neovim ' .. tostring(vim.version()) .. ': no vim.lsp.enable before 0.11',
      { 'call require("scopewise").setup() to start the server with vim.lsp.start' }
    )
  else
    health.error('Neovim ' .. tostring(vim.version()) .. ' is too old', { 'scopewise needs 0.10+' })
  end
end

--- @return string? exe, table? env
local function check_binary(cfg)
  local cmd = cfg.cmd
  if type(cmd) ~= 'table' or type(cmd[1]) ~= 'string' then
    health.info('cmd is a function: the server binary cannot be checked')
    return nil
  end
  local exe = vim.fn.exepath(cmd[1])
  if exe == '' then
    health.error(('server binary %q not found'):format(cmd[1]), {
      'install it from a scopewise checkout (not on PyPI): '
        .. 'python3 -m pip install -e /path/to/scopewise',
      'or give its path: vim.lsp.config("scopewise", { cmd = { "/path/to/scopewise", "serve" } })',
    })
    return nil
  end
  local env = cfg.cmd_env
  local version, err = run({ exe, '--version' }, env)
  if version then
    health.ok(('server: %s (%s)'):format(version, exe))
  else
    health.error(('%s --version failed: %s'):format(exe, err))
  end
  return exe, env
end

local function check_python(exe, env, roots)
  local python = python_of(exe)
  if not python then
    health.warn('could not tell which Python runs ' .. exe, {
      'the index and cache checks below are skipped',
    })
    return nil
  end
  local cmd = { python, '-c', PROBE }
  vim.list_extend(cmd, roots)
  local out, err = run(cmd, env)
  if not out then
    health.error(python .. ' failed: ' .. err)
    return nil
  end
  local ok, probe = pcall(vim.json.decode, out)
  if not ok or type(probe) ~= 'table' then
    health.error('unexpected answer from ' .. python .. ': ' .. out)
    return nil
  end
  local line = ('Python %s (%s)'):format(probe.python, probe.executable)
  if probe.supported then
    health.ok(line)
  else
    health.error(line .. ': scopewise needs Python 3.11+')
  end
  if probe.error then
    health.error('scopewise cannot be imported by that Python: ' .. probe.error)
    return nil
  end
  return probe
end

local function check_api_key(cfg)
  local settings = type(cfg.settings) == 'table' and cfg.settings.scopewise or {}
  local init = type(cfg.init_options) == 'table' and cfg.init_options or {}
  if type(init.scopewise) == 'table' then
    init = init.scopewise
  end
  local function from(t)
    return type(t) == 'table' and (t.apiKey or t.api_key) or nil
  end
  local provider = settings.provider or init.provider
  if provider == 'bedrock' or provider == 'vertex' then
    health.info(('provider %s: its own credentials, not ANTHROPIC_API_KEY'):format(provider))
    return
  end
  local env = cfg.cmd_env or {}
  local where
  if type(env.ANTHROPIC_API_KEY) == 'string' and env.ANTHROPIC_API_KEY ~= '' then
    where = 'cmd_env'
  elseif from(settings) then
    where = 'the scopewise settings'
  elseif from(init) then
    where = 'init_options'
  elseif (vim.env.ANTHROPIC_API_KEY or '') ~= '' then
    where = 'the environment'
  end
  if where then
    health.ok('ANTHROPIC_API_KEY is set (in ' .. where .. ')')
  else
    health.warn('no API key: code actions are listed with estimates, but running one fails', {
      'export ANTHROPIC_API_KEY before starting Neovim',
      'or set api_key in the project\'s .scopewise.toml (keep it out of version control)',
    })
  end
end

--- Who notices files changed outside Neovim: Neovim (its watcher, when the client offers it:
--- macOS, Windows) or the server itself (Linux: watchfiles, else polling every 2 s).
local function check_watching(client, probe)
  local ws = client.capabilities and client.capabilities.workspace or {}
  local offered = ws.didChangeWatchedFiles and ws.didChangeWatchedFiles.dynamicRegistration
  if offered then
    health.ok('files changed outside Neovim: watched by Neovim (workspace/didChangeWatchedFiles)')
  elseif probe and probe.watch == 'watchfiles' then
    health.ok('files changed outside Neovim: Neovim does not watch files here; the server '
      .. 'watches the workspace itself (watchfiles)')
  elseif probe and probe.watch then
    health.warn('files changed outside Neovim: the server polls the workspace every 2 s '
      .. '(watchfiles is not installed in its Python)', { 'pip install watchfiles' })
  else
    health.info('files changed outside Neovim: the server watches the workspace itself')
  end
end

local function check_clients_and_index(probe)
  local progress = require('scopewise').progress
  local running = clients()
  if #running == 0 then
    health.info('the server is not running: open a file of a supported language in a workspace')
  end
  for _, client in ipairs(running) do
    local bufs = vim.tbl_count(client.attached_buffers or {})
    local state = client.initialized and 'running' or 'starting'
    health.ok(('client %d %s: root %s, %d buffer(s), positions in %s'):format(
      client.id,
      state,
      client.root_dir or '(none)',
      bufs,
      client.offset_encoding or '?'
    ))
    check_watching(client, probe)
    local index = progress[client.id] and progress[client.id].index
    if not index then
      health.info('index: no progress reported yet')
    elseif index.state == 'done' then
      if (index.message or ''):match('fail') then
        health.error('index: ' .. index.message, { 'run :Scopewise reindex' })
      else
        health.ok('index: ' .. (index.message or 'built'))
      end
    else
      local pct = index.percentage and (' (%d%%)'):format(index.percentage) or ''
      health.info('index: ' .. (index.message or 'building') .. pct)
    end
  end
  if not probe then
    return
  end
  for _, r in ipairs(probe.roots or {}) do
    if r.error then
      health.warn(('index cache for %s: %s (%s)'):format(r.root, r.db, r.error))
    elseif r.exists then
      health.ok(('index cache for %s: %s files, updated %s (%s)'):format(
        r.root,
        tostring(r.files),
        os.date('%Y-%m-%d %H:%M', r.mtime),
        r.db
      ))
    else
      health.info(('index cache for %s: not built yet (%s)'):format(r.root, r.db))
    end
  end
end

local function check_folders(probe)
  if not probe then
    return
  end
  local folders = {
    { 'cache folder', probe.cache, (' (%d explanations)'):format(probe.explanations or 0) },
    { 'state folder (cost ledger)', probe.state, '' },
  }
  for _, f in ipairs(folders) do
    local what, path, extra = f[1], f[2], f[3]
    if vim.fn.isdirectory(path) == 1 and vim.fn.filewritable(path) == 2 then
      health.ok(('%s: %s%s'):format(what, path, extra))
    else
      health.error(('%s: %s is not a writable folder'):format(what, path))
    end
  end
end

function M.check()
  health.start('scopewise: Neovim')
  check_neovim()
  local cfg = server_config()

  health.start('scopewise: server')
  local exe, env = check_binary(cfg)
  local probe = exe and check_python(exe, env, workspace_roots()) or nil

  health.start('scopewise: Claude')
  check_api_key(cfg)

  health.start('scopewise: index and folders')
  check_clients_and_index(probe)
  check_folders(probe)
end

return M
