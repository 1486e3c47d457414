-- A stale buffer is never edited: an action listed before the buffer changed is refused
-- before any call; an answer whose buffer changed (above it) while Claude was answering is
-- placed on the text as it is now when the review accepts it: the typing stays, the answer lands.
-- Reply queued by test_neovim.py: one slow answer (the second case).
local T = dofile(vim.env.SCOPEWISE_NVIM_TESTS .. '/helpers.lua')

T.run(function()
  T.setup()
  vim.lsp.enable('scopewise')
  local buf = T.open('shop/pricing.py')
  local client = T.client(buf)

  -- 1. listed, then the buffer changes, then the action runs
  local action
  for _, a in ipairs(T.actions(buf, 29, 32, { only = { 'refactor' } })) do
    if T.titled('Refactor: simplify')(a) then
      action = a
    end
  end
  T.ok(action, 'a Refactor: simplify action')
  local resolved = vim.lsp.buf_request_sync(buf, 'codeAction/resolve', action, 5000)
  local command = resolved and resolved[client.id] and resolved[client.id].result.command
  T.ok(command and command.command == 'scopewise.run', 'a resolved scopewise.run command')
  vim.api.nvim_buf_set_lines(buf, 30, 30, false, { '    # a line typed after the menu was shown' })
  local changed = T.text(buf)
  local answer
  client:exec_cmd(command, { bufnr = buf }, function(err, result)
    answer = { err = err, result = result }
  end)
  T.wait('the answer to scopewise.run', function()
    return answer ~= nil
  end)
  T.ok(answer.err == nil and answer.result.applied == false, 'refused: ' .. vim.inspect(answer))
  T.wait_message('shop/pricing.py changed since the actions were listed')
  T.eq(T.text(buf), changed, 'the buffer')

  -- 2. the buffer changes while the answer streams in
  local runs = require('scopewise').progress[client.id].runs
  T.code_action(29, 33, T.titled('Refactor: simplify'), T.refactors)
  T.wait('the run to start', function()
    return next(runs) ~= nil
  end)
  vim.api.nvim_buf_set_lines(buf, 0, 0, false, { '# typed while Claude was answering' })
  changed = T.text(buf)
  -- proposed against the text the run started from; accepted, the hunk is re-based on the
  -- buffer as it is now (the line typed above it kept)
  T.accept()
  T.wait_text(buf, T.replace(changed, '    rate = clamp(rate, 0.0, MAX_DISCOUNT)\n',
    '    rate = 0.0\n'), 'the hunk re-based on the changed buffer')
  T.wait_message('applied to shop/pricing.py')
  T.eq(#T.questions, 0, 'reviewed in the helper: no Apply / Show diff / Discard question')
end)
