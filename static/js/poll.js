// Polls a part of the page and swaps it in place until the part says it is final, then reloads the
// page once (the rest of it, errors and next steps, follows from the final state). Used by an
// import's page: <script src="poll.js" data-poll="#import-status" data-every="1000">.
(function () {
  const script = document.currentScript;
  const selector = script.dataset.poll;
  const every = Number(script.dataset.every || 1000);
  const url = new URL(window.location.href);
  url.searchParams.set("part", "status");

  async function tick() {
    try {
      const response = await fetch(url, {headers: {"X-Requested-With": "fetch"}, cache: "no-store"});
      if (response.ok) {
        const holder = document.createElement("div");
        holder.innerHTML = await response.text();
        const fresh = holder.querySelector(selector);
        const current = document.querySelector(selector);
        if (fresh && current) {
          current.replaceWith(fresh);
          if (fresh.dataset.final === "1") {
            window.location.reload();
            return;
          }
        }
      }
    } catch (error) {
      // The network or the server blinked: try again at the next tick.
    }
    window.setTimeout(tick, every);
  }
  window.setTimeout(tick, every);
})();
