-- require('scopewise').status(): the tier and tokens of a running action, "" when idle (fed
-- the server's own $/progress messages, as lsp/scopewise.lua routes them).
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')
vim.opt.runtimepath:prepend(T.plugin)
local sw = require('scopewise')
vim.lsp.handlers['$/progress'] = function() end
local ctx = { client_id = 1 }
local function progress(kind, message)
  sw.on_progress(nil, { token = 'run-1', value = { kind = kind, message = message,
    title = 'scopewise Explain · deep: a long read · ~$0.02' } }, ctx, {})
end
T.eq(sw.status(), '', 'idle')
progress('begin', '~2.1k tok (estimated)')
T.eq(sw.status(), 'scopewise deep · 2.1k tok', 'at the start')
progress('report', 'thinking… 1.4k tokens')
T.eq(sw.status(), 'scopewise deep · 1.4k tok', 'while thinking')
progress('end', 'done · $0.0180')
T.eq(sw.status(), '', 'done')
T.log('PASS')
vim.cmd('qall!')
