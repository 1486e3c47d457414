--- scopewise for Neovim: "Revise…" a pending proposal or the last explanation.
---
--- A short instruction ("keep the old name", "shorter") is asked with `vim.ui.input`, its
--- prompt saying what the follow-up costs ("Revise… (standard, ~$0.004, cached): "), and sent
--- as `scopewise.revise`: the server runs one follow-up on the run's cached prefix. A revised
--- proposal replaces the old one in the review (see review.lua); a revised explanation streams
--- into a new explanation buffer like any explanation. See `:help scopewise-revise`.

local M = {}

local COMMAND = 'scopewise.revise'
local MAX = 500 -- characters, as the server allows

--- The newest finished explanation that can be revised: { run, revise, client_id }.
--- @type table?
M.last_explanation = nil

local function notify(msg, level)
  vim.notify('scopewise: ' .. msg, level or vim.log.levels.INFO)
end

--- "Revise… (standard, ~$0.004, cached): " from a `revise` cost, as of `now` (epoch seconds;
--- default the clock): once the prefix has left the prompt cache (`cachedUntil`), the
--- uncached estimate, without "cached".
--- @param cost table { tier, usd, cached, cachedUntil?, uncachedUsd? }
--- @param now number|nil
function M.prompt(cost, now)
  local until_s, later = tonumber(cost.cachedUntil), tonumber(cost.uncachedUsd)
  if cost.cached == true and until_s and later and (now or os.time()) >= until_s then
    cost = { tier = cost.tier, usd = later, cached = false }
  end
  local usd = tonumber(cost.usd) or 0
  local money
  if usd >= 0.01 then
    money = ('~$%.2f'):format(usd)
  elseif usd < 0.0001 then
    money = '<$0.0001'
  else
    money = ('~$%s'):format(tostring(tonumber(('%.1g'):format(usd))))
  end
  local cached = cost.cached == true and ', cached' or ''
  return ('Revise… (%s, %s%s): '):format(tostring(cost.tier), money, cached)
end

--- Why an instruction cannot be sent, or nil.
function M.problem(instruction)
  local line = vim.trim(instruction or '')
  if line == '' then
    return 'say how to revise it (e.g. "keep the old name", "shorter")'
  end
  if vim.fn.strchars(line) > MAX then
    return ('at most %d characters, in one line'):format(MAX)
  end
  return nil
end

--- Send `scopewise.revise` for `target` ({ proposal = id } or { explanation = run }).
local function send(client_id, target, instruction, on_done)
  local client = vim.lsp.get_client_by_id(client_id)
  if not client then
    return notify('the server is not running (see :checkhealth scopewise)', vim.log.levels.WARN)
  end
  local arg = vim.tbl_extend('force', target, { instruction = vim.trim(instruction) })
  client:request('workspace/executeCommand', { command = COMMAND, arguments = { arg } }, function(err, result)
    -- the server says itself (window/showMessage) why a revise was refused
    if err and err.code ~= vim.lsp.protocol.ErrorCodes.RequestCancelled then
      notify('revise: ' .. err.message, vim.log.levels.ERROR)
    end
    if not err and type(result) == 'table' and type(result.id) == 'string' and result.files then
      require('scopewise.review').show(result, client_id) -- also sent as scopewise/proposal
    end
    if on_done then
      on_done(result, err)
    end
  end)
end

--- Ask the instruction (unless given), then send it.
local function ask(cost, instruction, go)
  local function with(text)
    if text == nil then
      return -- cancelled
    end
    local why = M.problem(text)
    if why then
      return notify('revise: ' .. why, vim.log.levels.WARN)
    end
    go(text)
  end
  if instruction and instruction ~= '' then
    return with(instruction)
  end
  vim.ui.input({ prompt = M.prompt(cost) }, with)
end

--- Revise a proposal under review (the review buffer's `e`).
--- @param review table a review of review.lua
--- @param instruction? string asked when absent
--- @param on_done? fun(result: table?, err: table?)
function M.proposal(review, instruction, on_done)
  local cost = review.proposal.revise
  if type(cost) ~= 'table' then
    return notify('this proposal cannot be revised', vim.log.levels.WARN)
  end
  ask(cost, instruction, function(text)
    send(review.client_id, { proposal = review.proposal.id }, text, on_done)
  end)
end

--- Revise the last explanation.
--- @param instruction? string asked when absent
--- @param on_done? fun(result: table?, err: table?)
function M.explanation(instruction, on_done)
  local last = M.last_explanation
  if not last then
    return notify('no explanation to revise yet', vim.log.levels.WARN)
  end
  ask(last.revise, instruction, function(text)
    send(last.client_id, { explanation = last.run }, text, on_done)
  end)
end

--- A finished explanation (the last `scopewise/explanation`, done): kept for a revise.
function M.explained(result, client_id)
  if type(result) == 'table' and result.done and not result.cut and type(result.revise) == 'table' then
    M.last_explanation = { run = result.run, revise = result.revise, client_id = client_id }
  end
end

--- `:Scopewise revise {instruction}`: the proposal of the current review buffer, else the
--- newest review, else the last explanation.
function M.command(instruction, on_done)
  local review = require('scopewise.review')
  local target = review.current()
  if not target and not vim.b.scopewise_explanation then
    local newest
    for _, r in pairs(review.reviews) do
      if not newest or (r.opened or 0) > (newest.opened or 0) then
        newest = r
      end
    end
    target = newest
  end
  if target then
    return M.proposal(target, instruction, on_done)
  end
  M.explanation(instruction, on_done)
end

return M
