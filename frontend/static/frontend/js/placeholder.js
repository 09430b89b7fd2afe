// A large picture shows its small version (likely cached already) until it arrives. Set
// through the CSSOM: the Content-Security-Policy allows no inline style attribute.
for (const img of document.querySelectorAll("img[data-placeholder]")) {
  img.style.backgroundImage = `url(${JSON.stringify(img.dataset.placeholder)})`;
}
