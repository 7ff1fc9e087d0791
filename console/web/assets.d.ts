// Stylesheets imported by the console's modules: esbuild bundles them into dist/console/app.css.
declare module '*.css';
