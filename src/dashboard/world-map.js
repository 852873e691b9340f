// Hand-made low-polygon continent outlines, [longitude, latitude] pairs, drawn in an
// equirectangular projection (x = lon + 180, y = 90 - lat on a 360 x 180 view box).
// Deliberately coarse: enough to see where servers and players are, and it ships offline.
const LAND = [
  // North America
  [
    [-168, 65],
    [-162, 70],
    [-140, 70],
    [-125, 70],
    [-95, 72],
    [-80, 70],
    [-65, 60],
    [-55, 52],
    [-66, 45],
    [-70, 42],
    [-76, 35],
    [-81, 31],
    [-80, 25],
    [-83, 29],
    [-90, 29],
    [-97, 27],
    [-97, 21],
    [-92, 18],
    [-87, 21],
    [-88, 16],
    [-83, 10],
    [-78, 8],
    [-81, 8],
    [-86, 12],
    [-92, 14],
    [-105, 20],
    [-112, 29],
    [-110, 23],
    [-117, 32],
    [-123, 38],
    [-124, 46],
    [-130, 54],
    [-140, 60],
    [-152, 59],
    [-165, 55],
    [-160, 60],
    [-166, 62],
  ],
  // South America
  [
    [-78, 8],
    [-72, 12],
    [-62, 10],
    [-52, 5],
    [-50, 0],
    [-35, -5],
    [-38, -13],
    [-40, -22],
    [-48, -26],
    [-53, -34],
    [-58, -38],
    [-65, -42],
    [-68, -50],
    [-70, -55],
    [-74, -50],
    [-73, -40],
    [-71, -30],
    [-70, -18],
    [-76, -13],
    [-81, -5],
    [-80, 0],
    [-77, 4],
  ],
  // Eurasia
  [
    [-10, 36],
    [-9, 43],
    [-1, 46],
    [-5, 48],
    [2, 51],
    [8, 54],
    [10, 58],
    [5, 62],
    [15, 69],
    [25, 71],
    [40, 67],
    [45, 68],
    [60, 70],
    [70, 73],
    [80, 73],
    [100, 78],
    [113, 74],
    [140, 72],
    [160, 70],
    [180, 68],
    [180, 65],
    [170, 60],
    [163, 58],
    [156, 51],
    [156, 57],
    [143, 59],
    [137, 54],
    [141, 48],
    [135, 43],
    [129, 35],
    [127, 39],
    [122, 40],
    [121, 31],
    [117, 24],
    [109, 21],
    [108, 16],
    [109, 12],
    [105, 9],
    [100, 13],
    [100, 3],
    [104, 1],
    [98, 8],
    [98, 16],
    [94, 16],
    [91, 22],
    [86, 20],
    [80, 15],
    [77, 8],
    [73, 17],
    [67, 25],
    [57, 25],
    [52, 27],
    [48, 30],
    [50, 26],
    [56, 24],
    [59, 22],
    [52, 16],
    [43, 12],
    [39, 21],
    [35, 28],
    [32, 31],
    [35, 36],
    [27, 37],
    [26, 40],
    [29, 41],
    [41, 41],
    [36, 45],
    [30, 46],
    [28, 44],
    [23, 40],
    [21, 37],
    [19, 41],
    [14, 45],
    [12, 44],
    [16, 41],
    [16, 38],
    [12, 38],
    [10, 44],
    [3, 43],
    [-1, 37],
    [-6, 36],
  ],
  // Africa
  [
    [-17, 21],
    [-10, 31],
    [-6, 36],
    [10, 37],
    [11, 33],
    [20, 31],
    [32, 31],
    [34, 28],
    [39, 21],
    [43, 12],
    [51, 12],
    [50, 5],
    [40, -3],
    [40, -15],
    [35, -24],
    [32, -29],
    [27, -34],
    [20, -35],
    [18, -32],
    [12, -18],
    [13, -8],
    [9, -1],
    [9, 4],
    [4, 6],
    [-8, 5],
    [-13, 8],
    [-17, 14],
  ],
  // Australia
  [
    [114, -22],
    [114, -34],
    [124, -34],
    [131, -31],
    [138, -35],
    [141, -38],
    [147, -38],
    [150, -37],
    [153, -28],
    [153, -25],
    [146, -19],
    [142, -11],
    [136, -12],
    [136, -15],
    [130, -12],
    [125, -14],
    [121, -19],
  ],
  // Greenland, Iceland, Great Britain, Ireland
  [
    [-73, 78],
    [-60, 82],
    [-30, 83],
    [-20, 80],
    [-20, 70],
    [-40, 60],
    [-50, 62],
    [-55, 70],
    [-60, 76],
  ],
  [
    [-24, 65],
    [-14, 64],
    [-14, 66],
    [-22, 66],
  ],
  [
    [-5, 50],
    [1, 51],
    [2, 53],
    [-2, 56],
    [-2, 58],
    [-6, 58],
    [-5, 55],
    [-3, 54],
    [-5, 52],
  ],
  [
    [-10, 52],
    [-6, 52],
    [-6, 55],
    [-9, 55],
  ],
  // Japan, Madagascar, New Zealand, Sumatra, Borneo, New Guinea
  [
    [130, 31],
    [135, 34],
    [140, 35],
    [142, 40],
    [141, 45],
    [145, 44],
    [140, 41],
    [139, 38],
    [136, 37],
    [132, 35],
  ],
  [
    [44, -25],
    [47, -25],
    [50, -15],
    [49, -12],
    [44, -16],
  ],
  [
    [166, -46],
    [172, -41],
    [175, -37],
    [178, -38],
    [174, -42],
    [170, -46],
  ],
  [
    [95, 5],
    [98, 4],
    [106, -6],
    [102, -4],
  ],
  [
    [109, 1],
    [112, -3],
    [116, -4],
    [119, 1],
    [117, 7],
    [113, 3],
  ],
  [
    [131, -1],
    [141, -3],
    [150, -10],
    [141, -9],
    [138, -8],
  ],
  // Antarctica
  [
    [-180, -78],
    [180, -78],
    [180, -90],
    [-180, -90],
  ],
];

const SVG = 'http://www.w3.org/2000/svg';

/** SVG coordinates of a position. */
export function project(latitude, longitude) {
  return { x: longitude + 180, y: 90 - latitude };
}

function element(name, attributes) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  return node;
}

/** Draws graticule and land once; markers go in the returned group. */
export function drawWorld(svg) {
  const grid = element('g', { class: 'grid', 'aria-hidden': 'true' });
  for (let lon = -150; lon <= 150; lon += 30)
    grid.append(element('line', { x1: lon + 180, y1: 0, x2: lon + 180, y2: 180 }));
  for (let lat = -60; lat <= 60; lat += 30)
    grid.append(element('line', { x1: 0, y1: 90 - lat, x2: 360, y2: 90 - lat }));
  const land = element('g', { 'aria-hidden': 'true' });
  for (const outline of LAND) {
    const points = outline
      .map(([lon, lat]) => {
        const p = project(lat, lon);
        return `${p.x},${p.y}`;
      })
      .join(' ');
    land.append(element('polygon', { class: 'land', points }));
  }
  const markers = element('g', { id: 'markers' });
  svg.append(grid, land, markers);
  return markers;
}

/** Replaces the markers: deployments as squares, players as dots linked to their server. */
export function drawMarkers(markers, deployments, sessions) {
  markers.replaceChildren();
  const byRequest = new Map();
  for (const d of deployments) {
    if (d.latitude === null || d.longitude === null) continue;
    const p = project(d.latitude, d.longitude);
    byRequest.set(d.request_id, p);
  }
  for (const s of sessions) {
    const server = byRequest.get(s.deployment_request_id);
    for (const user of s.users) {
      if (user.latitude === null || user.longitude === null) continue;
      const p = project(user.latitude, user.longitude);
      if (server) markers.append(element('line', { class: 'link', x1: p.x, y1: p.y, x2: server.x, y2: server.y }));
      const dot = element('circle', { class: 'player', cx: p.x, cy: p.y, r: 1.3 });
      dot.append(Object.assign(element('title', {}), { textContent: `Player ${user.ip} of session ${s.session_id}` }));
      markers.append(dot);
    }
  }
  for (const d of deployments) {
    const p = byRequest.get(d.request_id);
    if (!p) continue;
    const square = element('rect', {
      class: `deployment ${d.status === 'Status.READY' ? 'ready' : 'other'}`,
      x: p.x - 2,
      y: p.y - 2,
      width: 4,
      height: 4,
    });
    square.append(
      Object.assign(element('title', {}), {
        textContent: `${d.request_id} in ${d.city || 'unknown city'}: ${d.sockets_usage} of ${d.sockets} seats`,
      }),
    );
    markers.append(square);
  }
}
