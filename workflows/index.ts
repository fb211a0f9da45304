export { echoWorkflow } from './echo.js';
