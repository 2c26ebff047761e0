// Beside each UTC time of the console, the same moment in the reader's time zone. Without
// the script the UTC time stands alone; the server's record is always the UTC one.
(() => {
  "use strict";
  const shown = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit", timeZoneName: "short",
  });
  for (const element of document.querySelectorAll("time[datetime]")) {
    const moment = new Date(element.getAttribute("datetime"));
    if (Number.isNaN(moment.getTime())) {
      continue;
    }
    const local = document.createElement("span");
    local.className = "local-time";
    local.textContent = ` (your time: ${shown.format(moment)})`;
    element.after(local);
  }
})();
