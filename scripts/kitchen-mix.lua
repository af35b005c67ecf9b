-- wrk script: sends the requests of a mix file (benches/fixtures/kitchen-mix.txt, its format
-- described at its top) one after another, round and round on each wrk thread, so every run
-- sends the same mix. Used by scripts/layer-load.sh:
--
--   wrk -s scripts/kitchen-mix.lua http://127.0.0.1:3000 -- benches/fixtures/kitchen-mix.txt
--
-- Each request should be answered 2xx: wrk counts the others as "Non-2xx or 3xx responses".

local requests = {}
local next_one = 1

-- Reads the mix file into wrk's raw requests.
local function load(path)
    local file = assert(io.open(path, "r"), "cannot open the mix file " .. path)
    local current = nil
    local function finish()
        if current then
            requests[#requests + 1] =
                wrk.format(current.method, current.target, current.headers, current.body)
        end
        current = nil
    end
    for line in file:lines() do
        if line:match("^#") then
            -- a comment
        elseif line == "" then
            finish()
        elseif not current then
            local method, target = line:match("^(%S+) (%S+)$")
            assert(method, "a block must start with METHOD TARGET: " .. line)
            current = {method = method, target = target, headers = {}}
        elseif line:match("^| ") then
            current.body = line:sub(3)
        else
            local name, value = line:match("^([^:]+): (.*)$")
            assert(name, "expected a `Name: value` header line: " .. line)
            current.headers[name] = value
        end
    end
    finish()
    file:close()
    assert(#requests > 0, "no requests in " .. path)
end

function init(args)
    load(args[1] or "benches/fixtures/kitchen-mix.txt")
end

function request()
    local r = requests[next_one]
    next_one = next_one % #requests + 1
    return r
end
