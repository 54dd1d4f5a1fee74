-- Shared by the three wrk scripts: the session cookie and the list of paths to rotate.
cookie = os.getenv("BENCH_COOKIE")
counter = 0

function rotate(paths, extra)
  return function()
    counter = counter + 1
    local path = paths[(counter % #paths) + 1]
    local headers = { ["Cookie"] = cookie }
    if extra then for k, v in pairs(extra) do headers[k] = v end end
    return wrk.format("GET", path, headers)
  end
end
