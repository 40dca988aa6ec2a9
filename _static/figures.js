// The book's figures, as a reader meets them: each opens at full size when clicked, and each
// is described by its caption, or else by the section it illustrates (the stored outputs' alt
// text is a file name).

// A figure's caption: the first paragraph after its cell that opens in bold ("**Fig. 1.** ..."),
// before any other code cell, cut to about 240 characters.
function caption(img) {
  const cell = img.closest("div.cell");
  for (let next = cell && cell.nextElementSibling; next; next = next.nextElementSibling) {
    if (next.matches("div.cell, section")) return null;
    if (next.tagName === "P" && next.firstChild && next.firstChild.nodeName === "STRONG") {
      const text = next.textContent.replace(/\s+/g, " ").trim();
      return text.length <= 240 ? text : `${text.slice(0, 240).replace(/ \S*$/, "")} …`;
    }
  }
  return null;
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll("article.bd-article img").forEach((img) => {
    if (img.src.startsWith("data:")) return; // a slider's frame: its controls swap the image
    const section = img.closest("section");
    const heading = section && section.querySelector("h1, h2, h3");
    const title = heading ? heading.textContent.replace(/#$/, "").trim() : document.title;
    if (!img.alt || img.alt.endsWith(".png")) {
      const described = caption(img);
      img.alt = described
        ? `${described} (opens at full size)`
        : `Figure of the section “${title}” (opens at full size)`;
    }
    if (img.closest("a") === null) {
      const link = document.createElement("a");
      link.href = img.src;
      link.target = "_blank";
      link.title = "Open the figure at full size";
      img.replaceWith(link);
      link.appendChild(img);
    }
  });
});
