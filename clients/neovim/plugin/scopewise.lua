-- :Scopewise explain|refactor|fix|action|usage|reindex|tests|cancel (see :help scopewise). The helpers
-- load on first use; the language server itself starts through vim.lsp.enable('scopewise')
-- or require('scopewise').setup().
if vim.g.loaded_scopewise then
  return
end
vim.g.loaded_scopewise = true

vim.api.nvim_create_user_command('Scopewise', function(args)
  require('scopewise').command(args)
end, {
  nargs = '+',
  range = true,
  desc = 'scopewise: explain, refactor, fix or a project action with Claude; usage, reindex, tests, cancel',
  complete = function(arglead, cmdline)
    return require('scopewise').complete(arglead, cmdline)
  end,
})
