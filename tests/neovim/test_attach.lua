-- A user who only puts clients/neovim on the runtimepath and calls vim.lsp.enable('scopewise'):
-- the server starts for every indexed language, once per workspace, and for nothing else.
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

T.run(function()
  T.setup()
  vim.lsp.enable('scopewise')

  local config = vim.lsp.config.scopewise
  T.eq(config.cmd, { 'scopewise', 'serve' }, 'cmd')
  local want = {
    'c', 'cpp', 'go', 'java', 'javascript', 'javascriptreact', 'python', 'ruby', 'rust',
    'typescript', 'typescriptreact',
  }
  local filetypes = vim.deepcopy(config.filetypes)
  table.sort(filetypes)
  T.eq(filetypes, want, 'filetypes')

  local py = T.open('shop/pricing.py')
  T.eq(vim.bo[py].filetype, 'python', 'filetype of pricing.py')
  local client = T.client(py)
  T.eq(client.name, 'scopewise', 'client name')
  T.eq(vim.uv.fs_realpath(client.root_dir), vim.uv.fs_realpath(T.workspace), 'root_dir')
  T.eq(client.offset_encoding, 'utf-8', 'position encoding (the server prefers UTF-8)')
  local index = require('scopewise').progress[client.id].index
  T.ok(index.message:match('^Indexed %d+ files'), 'index progress ended with: ' .. index.message)
  T.log('index:', index.message)
  local caps = client.server_capabilities
  T.ok(caps.codeActionProvider and caps.codeActionProvider.resolveProvider, 'codeAction/resolve')
  local commands = caps.executeCommandProvider and caps.executeCommandProvider.commands or {}
  for _, c in ipairs({ 'scopewise.run', 'scopewise.usage', 'scopewise.reindex' }) do
    T.ok(vim.tbl_contains(commands, c), 'the server offers ' .. c .. ': ' .. vim.inspect(commands))
  end

  -- other languages of the same workspace share the client
  for rel, ft in pairs({
    ['web/api.ts'] = 'typescript',
    ['web/view.tsx'] = 'typescriptreact',
    ['go/shapes.go'] = 'go',
    ['rust/src/lib.rs'] = 'rust',
    ['ruby/bank.rb'] = 'ruby',
    ['c/stack.c'] = 'c',
    ['java/com/shop/Inventory.java'] = 'java',
  }) do
    local buf = T.open(rel)
    T.eq(vim.bo[buf].filetype, ft, 'filetype of ' .. rel)
    T.wait('scopewise to attach to ' .. rel, function()
      return vim.lsp.get_clients({ bufnr = buf, name = 'scopewise' })[1] ~= nil
    end)
    local attached = vim.lsp.get_clients({ bufnr = buf, name = 'scopewise' })[1]
    T.eq(attached.id, client.id, rel .. ' client')
  end
  T.eq(#vim.lsp.get_clients({ name = 'scopewise' }), 1, 'one client for the workspace')

  -- and nothing else: a Markdown file, a help buffer
  local notes = T.path('NOTES.md')
  vim.fn.writefile({ '# notes' }, notes)
  vim.cmd.edit(vim.fn.fnameescape(notes))
  vim.wait(300)
  T.eq(#vim.lsp.get_clients({ bufnr = 0, name = 'scopewise' }), 0, 'clients on a Markdown file')

  -- a lone script outside any project gets its own folder as the workspace
  local lone = vim.fn.tempname() .. '-lone'
  vim.fn.mkdir(lone, 'p')
  vim.fn.writefile({ 'def double(x):', '    return 2 * x' }, lone .. '/script.py')
  vim.cmd.edit(vim.fn.fnameescape(lone .. '/script.py'))
  local other = T.client(vim.api.nvim_get_current_buf())
  T.ok(other.id ~= client.id, 'a second client for the lone script')
  T.eq(vim.uv.fs_realpath(other.root_dir), vim.uv.fs_realpath(lone), 'root_dir of the lone script')
end)
